/*
 * rescore.c: a few customers' RFM scores, rescored in the transaction that
 * changed their orders (rescore.h).
 *
 * A value's bin is 1 + the number of cut points below it, which is what
 * rfm_refresh()'s CASE gives (a value on a cut point takes the lower bin),
 * with a statement whose text does not depend on the cut points: it is
 * planned once per backend, and the cut points are its parameters.
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
				m;				/* numeric[] of the bins' upper bounds */
	char	   *insert_sql;		/* for a few customers, by a generic plan */
	SPIPlanPtr	insert_plan;
	char	   *insert_many_sql;	/* for more, planned for their keys */
	SPIPlanPtr	insert_many_plan;
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
 * segment._rfm_values_sql() gives for `customers` ('each' or 'listed').
 */
static char *
rescore_statement(const char *customers)
{
	static SPIPlanPtr values_plan = NULL;
	static Oid	types[1] = {TEXTOID};
	Datum		arg[1] = {CStringGetTextDatum(customers)};

	kept_run(&values_plan,
			 "SELECT segment._rfm_values_sql(s, $1) FROM segment.sources s WHERE s.kind = 'orders'",
			 1, types, arg, NULL, false, SPI_OK_SELECT);
	return MemoryContextStrdup(cuts_context, psprintf(
		"INSERT INTO segment.customer_rfm"
		" (customer_id, recency_days, frequency, monetary, score, scored_at, as_of)"
		" SELECT v.customer_id, v.recency_days, v.frequency, v.monetary,"
		" segment.rfm($7 - (SELECT pg_catalog.count(*) FROM pg_catalog.unnest($4) c WHERE c < v.recency_days)::pg_catalog.int4,"
		" 1 + (SELECT pg_catalog.count(*) FROM pg_catalog.unnest($5) c WHERE c < v.frequency)::pg_catalog.int4,"
		" 1 + (SELECT pg_catalog.count(*) FROM pg_catalog.unnest($6) c WHERE c < v.monetary)::pg_catalog.int4),"
		" pg_catalog.now(), $1"
		" FROM (%s) v",
		SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)));
}

static void
load_cuts(Catalog *cat)
{
	static SPIPlanPtr cuts_plan = NULL;

	kept_retire(cuts.insert_plan);
	kept_retire(cuts.insert_many_plan);
	if (cuts_context)
		kept_retire_context(cuts_context);
	cuts_context = AllocSetContextCreate(TopMemoryContext, "segment rfm cut points",
										 ALLOCSET_SMALL_SIZES);
	memset(&cuts, 0, sizeof(cuts));
	cuts.generation = -1;		/* until loaded: an error below leaves it unloaded */

	/* empty bins (ntile over fewer customers than bins) have no upper bound */
	kept_run(&cuts_plan,
			 "SELECT min(t.\"window\"), min(t.bins),"
			 " COALESCE(array_agg(t.upper_bound ORDER BY t.bin) FILTER (WHERE t.dimension = 'recency' AND t.upper_bound IS NOT NULL), '{}'),"
			 " COALESCE(array_agg(t.upper_bound ORDER BY t.bin) FILTER (WHERE t.dimension = 'frequency' AND t.upper_bound IS NOT NULL), '{}'),"
			 " COALESCE(array_agg(t.upper_bound ORDER BY t.bin) FILTER (WHERE t.dimension = 'monetary' AND t.upper_bound IS NOT NULL), '{}')"
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
	cuts.insert_sql = rescore_statement("each");
	cuts.insert_many_sql = rescore_statement("listed");
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

int64
rfm_rescore_keys(Catalog *cat, ArrayType *keys, Datum as_of)
{
	static SPIPlanPtr delete_plan = NULL;
	static Oid	delete_types[1] = {TEXTARRAYOID};
	static Oid	insert_types[7] = {TIMESTAMPTZOID, INTERVALOID, TEXTARRAYOID, NUMERICARRAYOID,
	NUMERICARRAYOID, NUMERICARRAYOID, INT4OID};
	Cuts	   *c = current_cuts(cat);
	Datum		values[7];

	if (!c->present)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("there are no rfm cut points to rescore with"),
				errhint("Run segment.rfm_refresh() first."));
	values[0] = PointerGetDatum(keys);
	kept_run(&delete_plan, "DELETE FROM segment.customer_rfm c WHERE c.customer_id = ANY ($1)",
			 1, delete_types, values, NULL, false, SPI_OK_DELETE);

	values[0] = as_of;
	values[1] = c->window;
	values[2] = PointerGetDatum(keys);
	values[3] = c->r;
	values[4] = c->f;
	values[5] = c->m;
	values[6] = c->bins;
	if (ArrayGetNItems(ARR_NDIM(keys), ARR_DIMS(keys)) <= GENERIC_PLAN_MAX_KEYS)
		kept_run(&c->insert_plan, c->insert_sql, 7, insert_types, values, NULL, false, SPI_OK_INSERT);
	else if (SPI_execute_plan(kept_plan(&c->insert_many_plan, c->insert_many_sql, 7, insert_types, 0),
							  values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "rescoring customers failed");
	return (int64) SPI_processed;
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
