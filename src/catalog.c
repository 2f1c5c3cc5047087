/*
 * catalog.c: segment.sources, segment.segments and segment.groups, loaded
 * once per catalog version and kept for the backend (see catalog.h).
 */
#include "postgres.h"

#include "catalog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "kept.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

static const char *const kind_names[SRC_COUNT] = {
	"customers", "orders", "order_items", "products", "events"
};

static const char *const track_functions[SRC_COUNT] = {
	"segment.track_customers", "segment.track_orders",
	"segment.track_order_items", "segment.track_products",
	"segment.track_events"
};

/* The catalog of the latest version this backend has read, and its memory. */
static Catalog *current = NULL;
static MemoryContext current_context = NULL;

/*
 * Set when a tracked table's definition may have changed: what is derived
 * from a catalog depends on it (amounts of numeric(p, s) are summed in units
 * of the scale; maintenance skips a probe without an index to make it one
 * lookup), so the catalog is loaded, and all of that derived, again.
 */
static bool tables_changed = false;
static bool relcache_callback_registered = false;

/* A relcache invalidation: for one table, or for all (InvalidOid). */
static void
tracked_table_changed(Datum arg, Oid relid)
{
	if (current == NULL)
		return;
	for (int k = 0; k < SRC_COUNT; k++)
		tables_changed |= relid == InvalidOid ||
			(current->src[k].present && current->src[k].relid == relid);
}

/*
 * Runs a catalog query; SPI returns in its own procedure context, so the
 * catalog's context is made current again for what is copied from the rows.
 */
static void
catalog_query(SPIPlanPtr *plan, const char *sql, bool read_only)
{
	MemoryContext context = CurrentMemoryContext;

	kept_run(plan, sql, 0, NULL, NULL, NULL, read_only, SPI_OK_SELECT);
	MemoryContextSwitchTo(context);
}

const char *
source_kind_name(SourceKind kind)
{
	return kind_names[kind];
}

const char *
source_track_function(SourceKind kind)
{
	return track_functions[kind];
}

SourceKind
source_kind_from_name(const char *name)
{
	for (int k = 0; k < SRC_COUNT; k++)
		if (strcmp(name, kind_names[k]) == 0)
			return (SourceKind) k;
	elog(ERROR, "unknown source kind \"%s\"", name);
	return SRC_COUNT;			/* keep the compiler quiet */
}

/* The text of column `col` of the current SPI row, copied, or NULL. */
static char *
spi_text(uint64 row, int col)
{
	char	   *value = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);

	return value ? pstrdup(value) : NULL;
}

/* The elements of a text[] column of the current SPI row, as C strings. */
static List *
spi_text_array(uint64 row, int col)
{
	bool		isnull;
	Datum		value = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *result = NIL;

	if (isnull)
		return NIL;
	deconstruct_array(DatumGetArrayTypeP(value), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			result = lappend(result, TextDatumGetCString(elems[i]));
	return result;
}

static void
load_sources(Catalog *cat, bool read_only)
{
	static SPIPlanPtr plan = NULL;

	catalog_query(&plan,
				  "SELECT kind, relation::pg_catalog.oid, key_column, customer_column,"
				  " time_column, amount_column, order_column, product_column,"
				  " quantity_column, price_column, kind_column"
				  " FROM segment.sources",
				  read_only);

	for (uint64 row = 0; row < SPI_processed; row++)
	{
		Source	   *src = &cat->src[source_kind_from_name(spi_text(row, 1))];

		src->present = true;
		src->relid = (Oid) strtoul(spi_text(row, 2), NULL, 10);
		src->qualname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(src->relid)),
												   get_rel_name(src->relid));
		src->key = spi_text(row, 3);
		src->customer = spi_text(row, 4);
		src->time = spi_text(row, 5);
		src->amount = spi_text(row, 6);
		src->order_ref = spi_text(row, 7);
		src->product_ref = spi_text(row, 8);
		src->quantity = spi_text(row, 9);
		src->price = spi_text(row, 10);
		src->kind = spi_text(row, 11);
	}
}

/* Per segment, the names it reads, until they are resolved to ids. */
typedef struct Reads
{
	List	   *segments;
	List	   *tags;
} Reads;

static void
load_segments(Catalog *cat, bool read_only)
{
	static SPIPlanPtr segments_plan = NULL;
	static SPIPlanPtr groups_plan = NULL;
	Reads	   *reads;
	ListCell   *lc;

	catalog_query(&segments_plan,
				  "SELECT id, name, tag, rule::pg_catalog.text, mode, sources, depends_on, tags_tested"
				  " FROM segment.segments ORDER BY id",
				  read_only);

	reads = palloc0(sizeof(Reads) * Max(SPI_processed, 1));
	for (uint64 row = 0; row < SPI_processed; row++)
	{
		SegmentEntry *seg = palloc0(sizeof(SegmentEntry));
		char	   *mode = spi_text(row, 5);

		seg->id = pg_strtoint32(spi_text(row, 1));
		seg->name = spi_text(row, 2);
		seg->tag = spi_text(row, 3);
		seg->rule = spi_text(row, 4);
		seg->mode = strcmp(mode, "incremental") == 0 ? MODE_INCREMENTAL :
			strcmp(mode, "scheduled") == 0 ? MODE_SCHEDULED : MODE_MANUAL;
		foreach(lc, spi_text_array(row, 6))
		{
			if (strcmp(lfirst(lc), "rfm") == 0)
				seg->reads_rfm = true;
			else
				seg->reads_source[source_kind_from_name(lfirst(lc))] = true;
		}
		reads[row].segments = spi_text_array(row, 7);
		reads[row].tags = spi_text_array(row, 8);
		cat->segments = lappend(cat->segments, seg);
	}

	/* names to ids: in_segment() names, and the segments keeping a tag read */
	foreach(lc, cat->segments)
	{
		SegmentEntry *seg = lfirst(lc);
		Reads	   *r = &reads[foreach_current_index(lc)];
		ListCell   *name;
		ListCell   *other;

		foreach(name, r->segments)
		{
			SegmentEntry *read = catalog_find_segment(cat, lfirst(name));

			if (read)
				seg->reads = list_append_unique_int(seg->reads, read->id);
		}
		foreach(name, r->tags)
			foreach(other, cat->segments)
			{
				SegmentEntry *keeper = lfirst(other);

				if (keeper->tag && strcmp(keeper->tag, lfirst(name)) == 0)
					seg->reads = list_append_unique_int(seg->reads, keeper->id);
			}
	}

	catalog_query(&groups_plan, "SELECT name FROM segment.groups ORDER BY name", read_only);
	for (uint64 row = 0; row < SPI_processed; row++)
		cat->groups = lappend(cat->groups, spi_text(row, 1));
}

static int64
visible_version(bool read_only, Oid *table)
{
	static SPIPlanPtr plan = NULL;
	bool		isnull;
	Datum		value;

	kept_run(&plan, "SELECT version, tableoid FROM segment.catalog_version", 0, NULL, NULL, NULL,
			 read_only, SPI_OK_SELECT);
	if (SPI_processed != 1)
		ereport(ERROR,
				errcode(ERRCODE_DATA_CORRUPTED),
				errmsg("segment.catalog_version must hold exactly one row"),
				errhint("Reinstall the extension, or insert the row: INSERT INTO segment.catalog_version VALUES (0)."));
	*table = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetInt64(value);
}

Catalog *
catalog_current(bool read_only)
{
	static int64 generations = 0;
	Oid			table;
	int64		version = visible_version(read_only, &table);
	MemoryContext context;
	MemoryContext old;
	Catalog    *cat;

	if (current && current->version == version && current->version_table == table && !tables_changed)
		return current;
	if (!relcache_callback_registered)
	{
		CacheRegisterRelcacheCallback(tracked_table_changed, (Datum) 0);
		relcache_callback_registered = true;
	}
	/* a change during the load sets it again, for the next call */
	tables_changed = false;

	context = AllocSetContextCreate(TopMemoryContext, "segment catalog", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(context);
	PG_TRY();
	{
		cat = palloc0(sizeof(Catalog));
		cat->generation = ++generations;
		cat->version_table = table;
		cat->version = version;
		load_sources(cat, read_only);
		load_segments(cat, read_only);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(context);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);

	/* a caller may still hold the previous one */
	if (current_context)
		kept_retire_context(current_context);
	current = cat;
	current_context = context;
	return cat;
}

SegmentEntry *
catalog_find_segment(Catalog *cat, const char *name)
{
	ListCell   *lc;

	foreach(lc, cat->segments)
	{
		SegmentEntry *seg = lfirst(lc);

		if (strcmp(seg->name, name) == 0)
			return seg;
	}
	return NULL;
}

SegmentEntry *
catalog_find_segment_id(Catalog *cat, int32 id)
{
	ListCell   *lc;

	foreach(lc, cat->segments)
	{
		SegmentEntry *seg = lfirst(lc);

		if (seg->id == id)
			return seg;
	}
	return NULL;
}

List *
catalog_with_dependants(Catalog *cat, List *ids, bool maintained_only)
{
	List	   *reached = list_copy(ids);
	List	   *result = NIL;
	bool		grew = true;
	ListCell   *lc;

	/* segments are few: sweep until nothing new is reached */
	while (grew)
	{
		grew = false;
		CHECK_FOR_INTERRUPTS();
		foreach(lc, cat->segments)
		{
			SegmentEntry *seg = lfirst(lc);
			ListCell   *r;

			if (list_member_int(reached, seg->id))
				continue;
			foreach(r, seg->reads)
				if (list_member_int(reached, lfirst_int(r)))
				{
					reached = lappend_int(reached, seg->id);
					grew = true;
					break;
				}
		}
	}
	foreach(lc, cat->segments)
	{
		SegmentEntry *seg = lfirst(lc);

		if (list_member_int(reached, seg->id) &&
			(!maintained_only || seg->mode == MODE_INCREMENTAL))
			result = lappend_int(result, seg->id);
	}
	return result;
}

List *
catalog_dependency_order(Catalog *cat, List *ids)
{
	List	   *pending = list_copy(ids);
	List	   *ordered = NIL;

	while (pending != NIL)
	{
		List	   *ready = NIL;
		ListCell   *lc;

		CHECK_FOR_INTERRUPTS();
		/* those that read none of the segments still pending */
		foreach(lc, pending)
		{
			SegmentEntry *seg = catalog_find_segment_id(cat, lfirst_int(lc));
			ListCell   *r;
			bool		waits = false;

			if (seg == NULL)
				ereport(ERROR,
						errcode(ERRCODE_UNDEFINED_OBJECT),
						errmsg("segment with id %d does not exist", lfirst_int(lc)));
			foreach(r, seg->reads)
				waits |= lfirst_int(r) != seg->id && list_member_int(pending, lfirst_int(r));
			if (!waits)
				ready = lappend_int(ready, seg->id);
		}
		if (ready == NIL)
		{
			StringInfoData names;

			initStringInfo(&names);
			foreach(lc, pending)
				appendStringInfo(&names, "%s\"%s\"", names.len ? ", " : "",
								 catalog_find_segment_id(cat, lfirst_int(lc))->name);
			ereport(ERROR,
					errcode(ERRCODE_INVALID_RECURSION),
					errmsg("segments %s depend on each other", names.data),
					errhint("Redefine one of them so that it no longer reads the others."));
		}
		ordered = list_concat(ordered, ready);
		pending = list_difference_int(pending, ready);
	}
	return ordered;
}
