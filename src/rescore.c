/*
 * rescore.c: a few customers' RFM scores, rescored in the transaction that
 * changed their orders (rescore.h).
 *
 * A value's bin is 1 + the number of cut points below it, which is what
 * rfm_refresh()'s CASE gives (a value on a cut point takes the lower bin),
 * with a statement whose text does not depend on the cut points: it is
 * planned once per backend, and the cut points are its parameters.
 *
 * The values come from the customers' orders, or, when a trigger's
 * evaluation of their segments has aggregated them beside its own features
 * (refresh.h), from that: one pass over the orders instead of two.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "kept.h"
#include "rescore.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(segment_rfm_rescore_keys);

/* The last refresh's cut points, as of a catalog generation. */
typedef struct Cuts
{
	int64		generation;	/* of the catalog it was derived from */
	bool		present;
	Datum		window;			/* interval */
	Datum		bins;			/* int4 */
	Datum		r,
				f,
				m;				/* numeric[]: the bins' upper bounds, ascending, NULL for none */
	char	   *score_sql;		/* for a few customers, by a generic plan */
	SPIPlanPtr	score_plan;
	char	   *score_many_sql;	/* for more, planned for their keys */
	SPIPlanPtr	score_many_plan;
	char	   *score_given_sql;	/* from values aggregated elsewhere */
	SPIPlanPtr	score_given_plan;
	RfmAggregates aggregates;	/* what an evaluation aggregates for those */
} Cuts;

/* Up to this many customers, rescoring runs a generic plan. */
#define GENERIC_PLAN_MAX_KEYS 64

static Cuts cuts = {-1};		/* generation -1: not loaded */
static MemoryContext cuts_context = NULL;

static Datum
copy_datum(int col, bool byval, int len)
{
	bool		isnull;
	Datum		value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, &isnull);
	MemoryContext old = MemoryContextSwitchTo(cuts_context);

	value = datumCopy(value, byval, len);
	MemoryContextSwitchTo(old);
	return value;
}

/*
 * The statement rescoring the customers in $3, with the values query that
 * segment._rfm_values_sql() gives for `customers` ('each' or 'listed'), or
 * those whose values are in $8 to $11 ('given'); it returns how many it
 * scored.  A value's bin is segment._rfm_bin()'s, as in rfm_refresh(), over
 * the cut points in $4 to $6.  Scores are updated in place (the table's fill
 * factor leaves room for a HOT update) rather than deleted and inserted
 * again; with keys, those of the customers with no order left in the window
 * are deleted by the same statement (given values say so themselves:
 * write_scores() deletes those).
 */
static char *
rescore_statement(const char *customers)
{
	static SPIPlanPtr values_plan = NULL;
	static Oid	types[1] = {TEXTOID};
	Datum		arg[1] = {CStringGetTextDatum(customers)};
	const char *gone = strcmp(customers, "given") == 0 ? "" :
		", gone AS (DELETE FROM segment.customer_rfm c WHERE c.customer_id = ANY ($3)"
		" AND NOT EXISTS (SELECT FROM scored s WHERE s.customer_id = c.customer_id))";

	kept_run(&values_plan,
			 "SELECT segment._rfm_values_sql(s, $1) FROM segment.sources s WHERE s.kind = 'orders'",
			 1, types, arg, NULL, false, SPI_OK_SELECT);
	return MemoryContextStrdup(cuts_context, psprintf(
		"WITH scored AS (INSERT INTO segment.customer_rfm AS c"
		" (customer_id, recency_days, frequency, monetary, score, scored_at, as_of, last_order_at)"
		" SELECT v.customer_id, v.recency_days, v.frequency, v.monetary,"
		" segment.rfm($7 + 1 - segment._rfm_bin(v.recency_days, $4),"
		" segment._rfm_bin(v.frequency, $5), segment._rfm_bin(v.monetary, $6)),"
		" pg_catalog.now(), $1, v.last_order_at"
		" FROM (%s) v"
		" ON CONFLICT (customer_id) DO UPDATE SET recency_days = excluded.recency_days,"
		" frequency = excluded.frequency, monetary = excluded.monetary, score = excluded.score,"
		" scored_at = excluded.scored_at, as_of = excluded.as_of, last_order_at = excluded.last_order_at"
		" RETURNING c.customer_id)%s"
		" SELECT pg_catalog.count(*) FROM scored",
		SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), gone));
}

/*
 * The aggregates of segment._rfm_aggregates_sql(), for the window cut: its
 * start computed once per statement, as the rules' windows are (compile.c).
 */
static void
load_aggregates(void)
{
	static SPIPlanPtr plan = NULL;
	static Oid	types[1] = {TEXTOID};
	char	   *window = DatumGetCString(DirectFunctionCall1(interval_out, cuts.window));
	Datum		arg[1] = {CStringGetTextDatum(psprintf("(SELECT $1 - %s::pg_catalog.interval)",
														quote_literal_cstr(window)))};
	Datum	   *parts;
	bool		isnull;
	int			n;

	kept_run(&plan,
			 "SELECT segment._rfm_aggregates_sql(s, $1) FROM segment.sources s WHERE s.kind = 'orders'",
			 1, types, arg, NULL, false, SPI_OK_SELECT);
	deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
													   1, &isnull)),
					  TEXTOID, -1, false, TYPALIGN_INT, &parts, NULL, &n);
	if (n != 3)
		elog(ERROR, "segment._rfm_aggregates_sql() gave %d parts, not 3", n);
	cuts.aggregates.in_window = MemoryContextStrdup(cuts_context, TextDatumGetCString(parts[0]));
	cuts.aggregates.last = MemoryContextStrdup(cuts_context, TextDatumGetCString(parts[1]));
	cuts.aggregates.frequency = MemoryContextStrdup(cuts_context, TextDatumGetCString(parts[2]));
}

static void
load_cuts(Catalog *cat)
{
	static SPIPlanPtr cuts_plan = NULL;

	kept_retire(cuts.score_plan);
	kept_retire(cuts.score_many_plan);
	kept_retire(cuts.score_given_plan);
	if (cuts_context)
		kept_retire_context(cuts_context);
	cuts_context = AllocSetContextCreate(TopMemoryContext, "segment rfm cut points",
										 ALLOCSET_SMALL_SIZES);
	memset(&cuts, 0, sizeof(cuts));
	cuts.generation = -1;		/* until loaded: an error below leaves it unloaded */

	/* a bin with no upper bound (the top one, an empty tile) is NULL: _rfm_bin() skips it */
	kept_run(&cuts_plan,
			 "SELECT min(t.\"window\"), min(t.bins),"
			 " COALESCE(array_agg(t.upper_bound ORDER BY t.bin) FILTER (WHERE t.dimension = 'recency'), '{}'),"
			 " COALESCE(array_agg(t.upper_bound ORDER BY t.bin) FILTER (WHERE t.dimension = 'frequency'), '{}'),"
			 " COALESCE(array_agg(t.upper_bound ORDER BY t.bin) FILTER (WHERE t.dimension = 'monetary'), '{}')"
			 " FROM segment.rfm_thresholds t HAVING count(*) > 0",
			 0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	if (SPI_processed == 0 || !cat->src[SRC_ORDERS].present)
	{
		cuts.generation = cat->generation;
		return;
	}
	cuts.window = copy_datum(1, false, 16);
	cuts.bins = copy_datum(2, true, 4);
	cuts.r = copy_datum(3, false, -1);
	cuts.f = copy_datum(4, false, -1);
	cuts.m = copy_datum(5, false, -1);

	/* each customer's values, computed as the refresh computes them */
	cuts.score_sql = rescore_statement("each");
	cuts.score_many_sql = rescore_statement("listed");
	cuts.score_given_sql = rescore_statement("given");
	load_aggregates();
	cuts.present = true;
	cuts.generation = cat->generation;
}

static Cuts *
current_cuts(Catalog *cat)
{
	if (cuts.generation != cat->generation)
		load_cuts(cat);
	return &cuts;
}

bool
rfm_rescore_ready(Catalog *cat)
{
	return current_cuts(cat)->present;
}

void
rfm_lock_scores(void)
{
	Oid			relid = get_relname_relid("customer_rfm", get_namespace_oid("segment", false));

	if (!OidIsValid(relid))
		elog(ERROR, "segment.customer_rfm does not exist");
	LockRelationOid(relid, RowExclusiveLock);
}

const RfmAggregates *
rfm_aggregates(Catalog *cat)
{
	Cuts	   *c = current_cuts(cat);

	return c->present ? &c->aggregates : NULL;
}

static Cuts *
cuts_to_rescore_with(Catalog *cat)
{
	Cuts	   *c = current_cuts(cat);

	if (!c->present)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("there are no rfm cut points to rescore with"),
				errhint("Run segment.rfm_refresh() first."));
	return c;
}

/* Deletes the scores of the given customers with no order in the window. */
static void
delete_unordered(RfmValues *given)
{
	static SPIPlanPtr plan = NULL;
	static Oid	types[1] = {TEXTARRAYOID};
	Datum	   *cids = palloc(sizeof(Datum) * given->n);
	int			n = 0;
	Datum		values[1];

	for (int i = 0; i < given->n; i++)
		if (DatumGetInt64(given->frequency[i]) == 0)
			cids[n++] = given->cids[i];
	if (n == 0)
		return;
	values[0] = PointerGetDatum(construct_array(cids, n, TEXTOID, -1, false, TYPALIGN_INT));
	kept_run(&plan, "DELETE FROM segment.customer_rfm c WHERE c.customer_id = ANY ($1)",
			 1, types, values, NULL, false, SPI_OK_DELETE);
}

/* The count the last rescoring statement returned. */
static int64
scored_count(void)
{
	bool		isnull;

	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Writes the scores of the customers `keys`, or of those whose values are
 * given (keys NULL), deleting theirs if they have no order in the window;
 * returns how many were scored.
 */
static int64
write_scores(Cuts *c, ArrayType *keys, RfmValues *given, Datum as_of)
{
	static Oid	types[11] = {TIMESTAMPTZOID, INTERVALOID, TEXTARRAYOID, NUMERICARRAYOID,
		NUMERICARRAYOID, NUMERICARRAYOID, INT4OID, TEXTARRAYOID, TIMESTAMPTZARRAYOID,
	INT8ARRAYOID, NUMERICARRAYOID};
	Datum		values[11];
	char		nulls[11];
	int			ret;

	memset(nulls, ' ', sizeof(nulls));
	values[0] = as_of;
	values[1] = c->window;
	values[2] = PointerGetDatum(keys);
	nulls[2] = keys == NULL ? 'n' : ' ';
	values[3] = c->r;
	values[4] = c->f;
	values[5] = c->m;
	values[6] = c->bins;
	if (keys)
	{
		if (ArrayGetNItems(ARR_NDIM(keys), ARR_DIMS(keys)) <= GENERIC_PLAN_MAX_KEYS)
		{
			kept_run(&c->score_plan, c->score_sql, 7, types, values, NULL, false, SPI_OK_SELECT);
			return scored_count();
		}
		ret = SPI_execute_plan(kept_plan(&c->score_many_plan, c->score_many_sql, 7, types,
										 CURSOR_OPT_CUSTOM_PLAN),
							   values, NULL, false, 0);
	}
	else
	{
		int			dims[1] = {given->n};
		int			lbs[1] = {1};

		values[7] = PointerGetDatum(construct_array(given->cids, given->n, TEXTOID, -1, false,
													TYPALIGN_INT));
		values[8] = PointerGetDatum(construct_md_array(given->last, given->last_null, 1, dims, lbs,
													   TIMESTAMPTZOID, sizeof(TimestampTz),
													   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		values[9] = PointerGetDatum(construct_array(given->frequency, given->n, INT8OID,
													sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		values[10] = PointerGetDatum(construct_md_array(given->monetary, given->monetary_null, 1, dims,
														lbs, NUMERICOID, -1, false, TYPALIGN_INT));
		delete_unordered(given);
		ret = SPI_execute_plan(kept_plan(&c->score_given_plan, c->score_given_sql, 11, types,
										 CURSOR_OPT_GENERIC_PLAN),
							   values, nulls, false, 0);
	}
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "rescoring customers failed");
	return scored_count();
}

int64
rfm_rescore_keys(Catalog *cat, ArrayType *keys, Datum as_of)
{
	Cuts	   *c = cuts_to_rescore_with(cat);

	return write_scores(c, keys, NULL, as_of);
}

static int
compare_cstrings(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * The keys whose values were not given: customers with orders but not in the
 * customers table, which an evaluation does not meet.  NULL for none.
 */
static ArrayType *
keys_not_given(ArrayType *keys, RfmValues *given)
{
	Datum	   *elems;
	int			nkeys = ArrayGetNItems(ARR_NDIM(keys), ARR_DIMS(keys));
	char	  **wanted;
	char	  **got;
	Datum	   *missing;
	int			nmissing = 0;
	int			g = 0;

	/* the usual case, checked before any copying: keys are distinct, each evaluated once */
	if (given->n >= nkeys)
		return NULL;
	deconstruct_array(keys, TEXTOID, -1, false, TYPALIGN_INT, &elems, NULL, &nkeys);
	wanted = palloc(sizeof(char *) * nkeys);
	got = palloc(sizeof(char *) * Max(given->n, 1));
	for (int i = 0; i < nkeys; i++)
		wanted[i] = TextDatumGetCString(elems[i]);
	for (int i = 0; i < given->n; i++)
		got[i] = TextDatumGetCString(given->cids[i]);
	qsort(wanted, nkeys, sizeof(char *), compare_cstrings);
	qsort(got, given->n, sizeof(char *), compare_cstrings);
	missing = palloc(sizeof(Datum) * nkeys);
	for (int i = 0; i < nkeys; i++)
	{
		while (g < given->n && strcmp(got[g], wanted[i]) < 0)
			g++;
		if (g < given->n && strcmp(got[g], wanted[i]) == 0)
			continue;
		missing[nmissing++] = CStringGetTextDatum(wanted[i]);
	}
	return nmissing ? construct_array(missing, nmissing, TEXTOID, -1, false, TYPALIGN_INT) : NULL;
}

int64
rfm_rescore_given(Catalog *cat, ArrayType *keys, RfmValues *given, Datum as_of)
{
	Cuts	   *c = cuts_to_rescore_with(cat);
	ArrayType  *rest = keys_not_given(keys, given);
	int64		n = 0;

	if (given->n > 0)
		n += write_scores(c, NULL, given, as_of);
	if (rest)
		n += write_scores(c, rest, NULL, as_of);
	return n;
}

/*
 * segment._rfm_rescore(keys text[], as_of timestamptz) returns bigint: the
 * SQL face of rfm_rescore_keys(), for segment.rfm_rescore(), which has made
 * the keys canonical.
 */
Datum
segment_rfm_rescore_keys(PG_FUNCTION_ARGS)
{
	int64		n;

	SPI_connect();
	rfm_lock_scores();
	n = rfm_rescore_keys(catalog_current(false), PG_GETARG_ARRAYTYPE_P(0), PG_GETARG_DATUM(1));
	SPI_finish();
	PG_RETURN_INT64(n);
}
