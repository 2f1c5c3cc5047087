/*
 * catalog.c: load segment.sources, segment.segments and segment.groups.
 */
#include "postgres.h"

#include "catalog.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

static const char *const kind_names[SRC_COUNT] = {
	"customers", "orders", "order_items", "products", "events"
};

static const char *const track_functions[SRC_COUNT] = {
	"segment.track_customers", "segment.track_orders",
	"segment.track_order_items", "segment.track_products",
	"segment.track_events"
};

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

/*
 * Runs one of the catalog queries through a plan kept for the backend: they
 * run on every maintained statement, and planning them costs more than
 * running them.
 */
static void
run_catalog_query(SPIPlanPtr *plan, const char *sql)
{
	int			ret;

	if (*plan == NULL)
	{
		SPIPlanPtr	fresh = SPI_prepare(sql, 0, NULL);

		if (fresh == NULL || SPI_keepplan(fresh) != 0)
			elog(ERROR, "preparing \"%s\" failed: %s", sql, SPI_result_code_string(SPI_result));
		*plan = fresh;
	}
	ret = SPI_execute_plan(*plan, NULL, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "\"%s\" failed: %s", sql, SPI_result_code_string(ret));
}

/* The text of column `col` of the current SPI row, copied, or NULL. */
static char *
spi_text(int row, int col)
{
	char	   *value = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);

	return value ? pstrdup(value) : NULL;
}

static void
load_sources(Catalog *cat)
{
	static SPIPlanPtr plan = NULL;

	run_catalog_query(&plan,
					  "SELECT kind, relation::pg_catalog.oid, key_column, customer_column,"
					  " time_column, amount_column, order_column, product_column,"
					  " quantity_column, price_column, kind_column"
					  " FROM segment.sources");

	for (uint64 row = 0; row < SPI_processed; row++)
	{
		char	   *kind = spi_text(row, 1);
		Source	   *src = NULL;

		for (int k = 0; k < SRC_COUNT; k++)
			if (strcmp(kind, kind_names[k]) == 0)
				src = &cat->src[k];
		if (src == NULL)
			elog(ERROR, "unknown source kind \"%s\" in segment.sources", kind);

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

static void
load_segments(Catalog *cat)
{
	static SPIPlanPtr segments_plan = NULL;
	static SPIPlanPtr groups_plan = NULL;

	run_catalog_query(&segments_plan,
					  "SELECT id, name, tag, rule::pg_catalog.text FROM segment.segments ORDER BY id");

	for (uint64 row = 0; row < SPI_processed; row++)
	{
		SegmentEntry *seg = palloc0(sizeof(SegmentEntry));

		seg->id = pg_strtoint32(spi_text(row, 1));
		seg->name = spi_text(row, 2);
		seg->tag = spi_text(row, 3);
		seg->rule = spi_text(row, 4);
		cat->segments = lappend(cat->segments, seg);
	}

	run_catalog_query(&groups_plan, "SELECT name FROM segment.groups ORDER BY name");
	for (uint64 row = 0; row < SPI_processed; row++)
		cat->groups = lappend(cat->groups, spi_text(row, 1));
}

Catalog *
catalog_load(void)
{
	Catalog    *cat = palloc0(sizeof(Catalog));

	load_sources(cat);
	load_segments(cat);
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
