/*
 * refresh.c: the statement that applies one batch of segments.
 *
 * It evaluates the segments (compile.c's query), compares the result with
 * stored membership, and in the same statement deletes exits, inserts
 * entries and logs both.  Triggers run it for a few customers at a time, so
 * its plan is prepared once per backend and kept: planning the big query
 * costs more than running it for one customer.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "compile.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#if PG_VERSION_NUM < 150000
#error "segment needs PostgreSQL 15 or later"
#endif

PG_FUNCTION_INFO_V1(segment_apply_batch);

/* Prepared statements kept for this backend, by their text. */
#define PLAN_CACHE_SIZE 32

typedef struct CachedApply
{
	uint32		hash;
	char	   *sql;			/* in TopMemoryContext */
	SPIPlanPtr	plan;
} CachedApply;

static CachedApply plan_cache[PLAN_CACHE_SIZE];
static int	plan_cache_used = 0;

/*
 * $1 as_of, $2 customer keys (text[]) or NULL for all, $3 the batch's
 * segment ids, $4 the cause.  One row per segment of the batch.
 */
static char *
apply_statement(const char *evaluation, bool for_customers)
{
	return psprintf(
					"WITH cand AS MATERIALIZED (%s),\n"
					"gone AS (DELETE FROM segment.membership m"
					" WHERE %s"
					" AND NOT EXISTS (SELECT 1 FROM cand"
					" WHERE cand.sid = m.segment_id AND cand.cid = m.customer_id)"
					" RETURNING m.segment_id, m.customer_id),\n"
					"came AS (INSERT INTO segment.membership AS m (segment_id, customer_id, since)"
					" SELECT cand.sid, cand.cid, $1 FROM cand"
					" WHERE NOT EXISTS (SELECT 1 FROM segment.membership m"
					" WHERE m.segment_id = cand.sid AND m.customer_id = cand.cid)"
					" ON CONFLICT DO NOTHING RETURNING m.segment_id, m.customer_id),\n"
					"logged AS (INSERT INTO segment.changes (segment, customer_id, kind, at, cause)"
					" SELECT s.name, mv.customer_id, mv.kind, $1, $4"
					" FROM (SELECT segment_id, customer_id, 'exit' AS kind FROM gone"
					" UNION ALL SELECT segment_id, customer_id, 'enter' FROM came) mv"
					" JOIN segment.segments s ON s.id = mv.segment_id"
					" RETURNING id, segment, kind)\n"
					"SELECT s.name, COALESCE(n.members, 0), COALESCE(l.entered, 0),"
					" COALESCE(l.exited, 0), l.first_id, l.last_id"
					" FROM segment.segments s"
					" LEFT JOIN (SELECT sid, count(*) AS members FROM cand GROUP BY sid) n"
					" ON n.sid = s.id"
					" LEFT JOIN (SELECT g.segment,"
					" count(*) FILTER (WHERE g.kind = 'enter') AS entered,"
					" count(*) FILTER (WHERE g.kind = 'exit') AS exited,"
					" min(g.id) AS first_id, max(g.id) AS last_id"
					" FROM logged g GROUP BY g.segment) l ON l.segment = s.name"
					" WHERE s.id = ANY ($3) ORDER BY s.name",
					evaluation,
					/* by key; the segment as a mere filter, since it matches most rows */
					for_customers ?
					"m.customer_id = ANY ($2) AND (m.segment_id = ANY ($3)) IS TRUE" :
					"m.segment_id = ANY ($3)");
}

static SPIPlanPtr
prepared_plan(const char *sql)
{
	static Oid	argtypes[4] = {TIMESTAMPTZOID, TEXTARRAYOID, INT4ARRAYOID, TEXTOID};
	uint32		hash = hash_bytes((const unsigned char *) sql, strlen(sql));
	SPIPlanPtr	plan;

	for (int i = 0; i < plan_cache_used; i++)
		if (plan_cache[i].hash == hash && strcmp(plan_cache[i].sql, sql) == 0)
			return plan_cache[i].plan;

	/* segments come and go; start over rather than grow without bound */
	if (plan_cache_used == PLAN_CACHE_SIZE)
	{
		for (int i = 0; i < plan_cache_used; i++)
		{
			SPI_freeplan(plan_cache[i].plan);
			pfree(plan_cache[i].sql);
		}
		plan_cache_used = 0;
	}

	plan = SPI_prepare(sql, 4, argtypes);
	if (plan == NULL)
		elog(ERROR, "preparing the refresh statement failed: %s",
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "keeping the refresh statement failed");
	plan_cache[plan_cache_used].hash = hash;
	plan_cache[plan_cache_used].sql = MemoryContextStrdup(TopMemoryContext, sql);
	plan_cache[plan_cache_used].plan = plan;
	plan_cache_used++;
	return plan;
}

/*
 * Whether the keys are more than half the customers table's rows.  Measured
 * on the benchmark store: at 14% of the customers one index lookup each is
 * still 2.7 times faster than a pass over everything; at 63% they cost the
 * same.
 */
static bool
many_customers(ArrayType *keys, Compiler *cx)
{
	int			n = ArrayGetNItems(ARR_NDIM(keys), ARR_DIMS(keys));
	float4		rows = compiler_customer_rows(cx);

	return n > 1000 && n > 0.5 * rows;
}

/*
 * segment._apply_batch(batch int4[], as_of timestamptz, cause text,
 * customers text[]) returns (segment, members, entered, exited, first_id,
 * last_id): evaluates segments that do not read each other, for all
 * customers (customers NULL) or for the given keys, and applies the
 * difference.  members counts the evaluated customers who are members.
 */
Datum
segment_apply_batch(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *batch;
	bool		for_customers = !PG_ARGISNULL(3);
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	List	   *segment_ids = NIL;
	List	   *predicates = NIL;
	Compiler   *cx;
	char	   *evaluation;
	SPIPlanPtr	plan;
	int			ret;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("segments, as_of and cause must not be null"));
	batch = PG_GETARG_ARRAYTYPE_P(0);
	InitMaterializedSRF(fcinfo, 0);

	SPI_connect();
	cx = compile_segments(batch, &segment_ids, &predicates);
	if (for_customers && many_customers(PG_GETARG_ARRAYTYPE_P(3), cx))
	{
		/*
		 * For most of the customers, one pass over everything costs less
		 * than index lookups per customer: aggregate all rows and keep the
		 * given customers (the array is hashed).
		 */
		evaluation = psprintf("SELECT e.cid, e.sid FROM (%s) e WHERE e.cid = ANY ($2)",
							  compiler_query(cx, segment_ids, predicates, false));
	}
	else
		evaluation = compiler_query(cx, segment_ids, predicates, for_customers);
	plan = prepared_plan(apply_statement(evaluation, for_customers));

	values[0] = PG_GETARG_DATUM(1);
	values[1] = for_customers ? PG_GETARG_DATUM(3) : (Datum) 0;
	if (!for_customers)
		nulls[1] = 'n';
	values[2] = PointerGetDatum(batch);
	values[3] = PG_GETARG_DATUM(2);
	ret = SPI_execute_plan(plan, values, nulls, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "applying segments failed: %s", SPI_result_code_string(ret));

	for (uint64 row = 0; row < SPI_processed; row++)
	{
		Datum		out[6];
		bool		outnulls[6];

		CHECK_FOR_INTERRUPTS();
		for (int col = 0; col < 6; col++)
			out[col] = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col + 1,
									 &outnulls[col]);
		/* the tuplestore copies the values out of SPI's memory */
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, outnulls);
	}
	SPI_finish();
	return (Datum) 0;
}
