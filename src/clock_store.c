/*
 * clock_store.c: keeps segment.clock_features (clock_store.h).
 *
 * The store follows the catalog: its layout is the counts and sums of every
 * incremental segment's rule, and segment.clock_store records which layout
 * the rows hold (its signature) and as of when.  A different layout means
 * building the store again, which tick() and a refresh of every segment do;
 * otherwise tick() moves it to its own time.  Data changes go through the
 * maintenance triggers, which mark the customers they touch stale (in
 * segment.clock_stale) unless the rows are newer than the store (the usual
 * case: an order placed now), so a stale row is the only one that can be
 * wrong, and it is built again before it is read.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "clock_store.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "kept.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

PG_FUNCTION_INFO_V1(segment_clock_store_sync);
PG_FUNCTION_INFO_V1(segment_counts_add);
PG_FUNCTION_INFO_V1(segment_counts_moved);

/* The layout for one catalog generation, and its statements. */
static int64 layout_generation = -1;
static MemoryContext layout_context = NULL;
static StoreLayout *layout = NULL;
static char *build_all_sql;
static char *build_listed_sql;
static char *move_sql;

StoreLayout *
clock_store_layout(Catalog *cat)
{
	List	   *ids = NIL;
	MemoryContext old;
	ListCell   *lc;

	if (layout_generation == cat->generation)
		return layout;
	if (layout_context)
		kept_retire_context(layout_context);
	layout_context = AllocSetContextCreate(TopMemoryContext, "segment clock store",
										   ALLOCSET_DEFAULT_SIZES);
	layout = NULL;
	layout_generation = -1;		/* until built: an error below leaves it unbuilt */

	/* what the clock maintains: incremental segments that read behaviour */
	foreach(lc, cat->segments)
	{
		SegmentEntry *seg = lfirst(lc);

		if (seg->mode == MODE_INCREMENTAL &&
			(seg->reads_source[SRC_ORDERS] || seg->reads_source[SRC_ITEMS] ||
			 seg->reads_source[SRC_EVENTS]))
			ids = lappend_int(ids, seg->id);
	}
	old = MemoryContextSwitchTo(layout_context);
	layout = store_layout(cat, ids);
	if (layout)
	{
		build_all_sql = store_build_sql(layout, false);
		build_listed_sql = store_build_sql(layout, true);
		move_sql = store_move_sql(layout);
	}
	MemoryContextSwitchTo(old);
	layout_generation = cat->generation;
	return layout;
}

/*
 * The signature the store must have to be read now: its features, and the
 * session's time zone, which windows and calendar months are reckoned in
 * (a store kept in another zone is built again rather than read wrong).
 */
static char *
signature_now(StoreLayout *l)
{
	return psprintf("%sTimeZone %s\n", store_signature(l), pg_get_timezone_name(session_timezone));
}

/* The store's signature and time, false if it has none. */
static bool
store_state(char **signature, Datum *as_of)
{
	static SPIPlanPtr plan = NULL;
	bool		isnull;

	kept_run(&plan, "SELECT s.signature, s.as_of FROM segment.clock_store s", 0, NULL, NULL, NULL,
			 false, SPI_OK_SELECT);
	if (SPI_processed != 1)
		return false;
	*signature = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	*as_of = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	return true;
}

bool
clock_store_current(Catalog *cat, Datum as_of)
{
	StoreLayout *l = clock_store_layout(cat);
	char	   *signature;
	Datum		stored;

	return l != NULL && store_state(&signature, &stored) &&
		strcmp(signature, signature_now(l)) == 0 &&
		DatumGetTimestampTz(stored) == DatumGetTimestampTz(as_of);
}

/* Empties the store's rows (TRUNCATE: a build rewrites every one). */
static void
truncate_rows(void)
{
	if (SPI_execute("TRUNCATE segment.clock_features, segment.clock_stale, segment.clock_flips", false, 0) !=
		SPI_OK_UTILITY)
		elog(ERROR, "emptying the clock's store failed");
}

/* Runs a statement of the store with $1 timestamptz and $2 (text[] or timestamptz). */
static void
run(const char *sql, Datum as_of, Oid type2, Datum arg2, bool arg2_null, int expect)
{
	Oid			types[2] = {TIMESTAMPTZOID, type2};
	Datum		values[2] = {as_of, arg2};
	char		nulls[2] = {' ', arg2_null ? 'n' : ' '};
	int			ret = SPI_execute_with_args(sql, 2, types, values, nulls, false, 0);

	if (ret != expect)
		elog(ERROR, "keeping the clock's store failed: %s", SPI_result_code_string(ret));
}

void
clock_store_freshen(Catalog *cat, ArrayType *keys, Datum as_of)
{
	static SPIPlanPtr find = NULL;
	static SPIPlanPtr drop = NULL;
	static Oid	types[1] = {TEXTARRAYOID};
	Datum		arg[1] = {PointerGetDatum(keys)};
	bool		isnull;
	Datum		stale;

	if (clock_store_layout(cat) == NULL)
		return;
	kept_run(&find, "WITH d AS (DELETE FROM segment.clock_stale s WHERE s.customer_id = ANY ($1)"
			 " RETURNING s.customer_id) SELECT pg_catalog.array_agg(d.customer_id) FROM d",
			 1, types, arg, NULL, false, SPI_OK_SELECT);
	stale = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return;
	arg[0] = stale;
	kept_run(&drop, "DELETE FROM segment.clock_features s WHERE s.customer_id = ANY ($1)",
			 1, types, arg, NULL, false, SPI_OK_DELETE);
	run(build_listed_sql, as_of, TEXTARRAYOID, stale, false, SPI_OK_INSERT);
}

void
clock_store_invalidate(ArrayType *keys, TimestampTz earliest)
{
	static SPIPlanPtr read = NULL;
	static SPIPlanPtr mark = NULL;
	static Oid	types[1] = {TEXTARRAYOID};
	Datum		values[1] = {PointerGetDatum(keys)};
	bool		isnull;

	/* the common case, an order placed now, reads one row and writes none */
	kept_run(&read, "SELECT c.as_of FROM segment.clock_store c", 0, NULL, NULL, NULL, false,
			 SPI_OK_SELECT);
	if (SPI_processed != 1 ||
		earliest > DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
													  1, &isnull)))
		return;
	/* in key order, as customer_turns: concurrent marks never deadlock */
	kept_run(&mark,
			 "INSERT INTO segment.clock_stale (customer_id)"
			 " SELECT k FROM pg_catalog.unnest($1) k ORDER BY k"
			 " ON CONFLICT (customer_id) DO NOTHING",
			 1, types, values, NULL, false, SPI_OK_INSERT);
}

void
clock_store_drop(void)
{
	static SPIPlanPtr plan = NULL;

	kept_run(&plan, "DELETE FROM segment.clock_store", 0, NULL, NULL, NULL, false, SPI_OK_DELETE);
}

/*
 * segment._clock_store_sync(as_of timestamptz, build_only boolean) returns
 * text: builds the store as of as_of if it holds another layout or none
 * ('built'), or else, unless build_only, moves it to as_of ('moved');
 * 'none' when no feature is stored, 'current' when nothing was to do.
 * The caller holds every incremental segment FOR UPDATE.
 */
Datum
segment_clock_store_sync(PG_FUNCTION_ARGS)
{
	Datum		as_of = PG_GETARG_DATUM(0);
	bool		build_only = PG_GETARG_BOOL(1);
	StoreLayout *l;
	char	   *signature;
	Datum		stored;
	const char *done;

	SPI_connect();
	l = clock_store_layout(catalog_current(false));
	if (l == NULL)
	{
		clock_store_drop();
		truncate_rows();
		done = "none";
	}
	else if (!store_state(&signature, &stored) || strcmp(signature, signature_now(l)) != 0)
	{
		truncate_rows();
		run(build_all_sql, as_of, TEXTARRAYOID, 0, true, SPI_OK_INSERT);
		run("INSERT INTO segment.clock_store AS c (signature, as_of, snapshot)"
			" VALUES ($2, $1, pg_catalog.pg_current_snapshot())"
			" ON CONFLICT (only_row) DO UPDATE SET signature = EXCLUDED.signature, as_of = EXCLUDED.as_of,"
			" snapshot = EXCLUDED.snapshot",
			as_of, TEXTOID, CStringGetTextDatum(signature_now(l)), false, SPI_OK_INSERT);
		done = "built";
	}
	else if (build_only || DatumGetTimestampTz(stored) == DatumGetTimestampTz(as_of))
		done = "current";
	else
	{
		/*
		 * A move touches few of the store's rows: index lookups, whatever
		 * the estimates say (a hash of the whole table took most of a
		 * one-day move of a million customers).
		 */
		int			level = kept_index_joins();

		if (SPI_execute("DELETE FROM segment.clock_flips", false, 0) != SPI_OK_DELETE)
			elog(ERROR, "emptying the clock's flips failed");
		run(move_sql, as_of, TIMESTAMPTZOID, stored, false, SPI_OK_INSERT);
		kept_joins_restore(level);
		run("UPDATE segment.clock_store SET as_of = $1, snapshot = pg_catalog.pg_current_snapshot()",
			as_of, TIMESTAMPTZOID, 0, true, SPI_OK_UPDATE);
		done = "moved";
	}
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(done));
}

/*
 * segment._counts_add(a numeric[], b numeric[]) returns numeric[]: the
 * element-wise sum, a NULL or missing element counting as 0, as long as the
 * longer array; NULL when both are.  A move adds what moved to every row it
 * touches: in SQL, each element was two subscripts (each a walk from the
 * array's start), two COALESCEs and an addition.
 */
Datum
segment_counts_add(PG_FUNCTION_ARGS)
{
	Datum	   *elems[2] = {NULL, NULL};
	bool	   *nulls[2] = {NULL, NULL};
	int			n[2] = {0, 0};
	int			len;
	Datum	   *sum;

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	/*
	 * Most moves change one source of a customer's features: the other
	 * sources' arrays are given back as they are, not taken apart and made
	 * again.
	 */
	for (int a = 0; a < 2; a++)
	{
		ArrayType  *arr;

		if (!PG_ARGISNULL(1 - a))
			continue;
		arr = PG_GETARG_ARRAYTYPE_P(a);
		if (ARR_NDIM(arr) <= 1 && !array_contains_nulls(arr))
			PG_RETURN_ARRAYTYPE_P(arr);
	}
	for (int a = 0; a < 2; a++)
	{
		ArrayType  *arr;

		if (PG_ARGISNULL(a))
			continue;
		arr = PG_GETARG_ARRAYTYPE_P(a);
		if (ARR_NDIM(arr) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("segment._counts_add() adds one-dimensional arrays, not %d-dimensional ones",
							ARR_NDIM(arr))));
		deconstruct_array(arr, NUMERICOID, -1, false, TYPALIGN_INT, &elems[a], &nulls[a], &n[a]);
	}
	len = Max(n[0], n[1]);
	sum = palloc(sizeof(Datum) * Max(len, 1));
	for (int i = 0; i < len; i++)
	{
		bool		in0 = i < n[0] && !nulls[0][i];
		bool		in1 = i < n[1] && !nulls[1][i];

		if (in0 && in1)
			sum[i] = DirectFunctionCall2(numeric_add, elems[0][i], elems[1][i]);
		else if (in0 || in1)
			sum[i] = in0 ? elems[0][i] : elems[1][i];
		else
			sum[i] = NumericGetDatum(int64_to_numeric(0));
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(sum, len, NUMERICOID, -1, false, TYPALIGN_INT));
}

/*
 * segment._counts_moved(a numeric[]) returns int8: a bit per element that is
 * not 0, element k as bit k - 1 (the 64th and later all as bit 63); 0 for
 * NULL.  What a move changed, so that the flips of a segment are worked out
 * only for the rows that moved one of its elements (compile_store.c).
 */
Datum
segment_counts_moved(PG_FUNCTION_ARGS)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	Datum		zero = NumericGetDatum(int64_to_numeric(0));
	uint64		moved = 0;

	if (PG_ARGISNULL(0))
		PG_RETURN_INT64(0);
	arr = PG_GETARG_ARRAYTYPE_P(0);
	deconstruct_array(arr, NUMERICOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (!nulls[i] && DatumGetInt32(DirectFunctionCall2(numeric_cmp, elems[i], zero)) != 0)
			moved |= UINT64CONST(1) << Min(i, 63);
	PG_RETURN_INT64((int64) moved);
}
