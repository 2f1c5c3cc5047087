/*
 * refresh.c: evaluate one batch of segments and apply the difference.
 *
 * Two statements.  The first only reads: per customer, the segments the
 * evaluation (compile.c) puts them in beside those stored, as two arrays,
 * streamed into a receiver here that counts members and keeps the entries
 * and exits in a tuplestore.  Being
 * read-only, it may run in parallel, and when nothing changed nothing is
 * written at all.  The second writes the difference, a chunk at a time:
 * deletes exits, inserts entries and logs both, in one statement.  The
 * changes are then announced on the channel segment_changes.
 *
 * Triggers run this for a few customers at a time, so plans are prepared
 * once per backend and kept: planning the evaluation costs more than running
 * it for one customer.
 */
#include "postgres.h"

#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "common/hashfn.h"
#include "compile.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#if PG_VERSION_NUM < 150000
#error "segment needs PostgreSQL 15 or later"
#endif

PG_FUNCTION_INFO_V1(segment_apply_batch);

/*
 * Up to this many customers, the evaluation's plan is generic: planned once,
 * with index lookups per customer.  Beyond, it is planned for the keys given.
 */
#define GENERIC_PLAN_MAX_KEYS 64

/* Entries and exits written per statement. */
#define APPLY_CHUNK 10000

/*
 * A segment's changes from one evaluation are announced one notification
 * each while they are this few; past that, one summary with the range of
 * ids to read with segment.changes_since(), so that a large refresh cannot
 * flood the notification queue.
 */
#define NOTIFY_EACH_MAX 20

/* Prepared statements kept for this backend, by their text and options. */
#define PLAN_CACHE_SIZE 32

typedef struct KeptPlan
{
	uint32		hash;
	int			options;
	char	   *sql;			/* in TopMemoryContext */
	SPIPlanPtr	plan;
} KeptPlan;

static KeptPlan plan_cache[PLAN_CACHE_SIZE];
static int	plan_cache_used = 0;

/* The parameters of every statement here, in this order. */
#define NPARAMS 4
static Oid	param_types[NPARAMS] = {TIMESTAMPTZOID, TEXTARRAYOID, INT4ARRAYOID, TEXTOID};

/* Per segment of the batch: what the caller gets back. */
typedef struct SegmentResult
{
	int32		id;
	const char *name;
	int64		members;
	int64		entered;
	int64		exited;
	int64		first_id;		/* of its change rows, 0 for none */
	int64		last_id;
	List	   *payloads;		/* one notification per change, while few */
} SegmentResult;

/* Receives the difference statement's rows (sids now, sids stored, customer). */
typedef struct DiffReceiver
{
	DestReceiver pub;
	MemoryContext row_context;	/* reset for every row */
	SegmentResult *results;
	int			nresults;
	Tuplestorestate *changes;	/* (sid int4, cid text, enter bool) */
	TupleDesc	change_desc;
	MemoryContext context;		/* where results live */
} DiffReceiver;

/*
 * $1 as_of, $2 customer keys (text[]) or NULL for all, $3 the batch's
 * segment ids: per customer, the segments the evaluation puts them in and
 * those stored, as int4[] (the first with NULLs where not a member).
 */
static char *
difference_statement(const char *evaluation, bool for_customers)
{
	return psprintf("SELECT e.sids, m.sids, COALESCE(e.cid, m.customer_id)"
					" FROM (%s) e FULL JOIN (SELECT m.customer_id, pg_catalog.array_agg(m.segment_id) AS sids"
					" FROM segment.membership m WHERE %s GROUP BY m.customer_id) m"
					" ON m.customer_id = e.cid",
					evaluation,
					/* by key; the segment as a mere filter, since it matches most rows */
					for_customers ?
					"m.customer_id = ANY ($2) AND (m.segment_id = ANY ($3)) IS TRUE" :
					"m.segment_id = ANY ($3)");
}

/*
 * $1 as_of, $4 the cause; $2 customer keys, $3 segment ids, with the
 * same positions in both, and $5 whether each enters (or exits).
 */
static const char apply_statement[] =
"WITH d AS (SELECT * FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($2),"
" pg_catalog.unnest($5::pg_catalog.bool[])) AS d(sid, cid, enter)),\n"
"gone AS (DELETE FROM segment.membership m USING d"
" WHERE NOT d.enter AND m.customer_id = d.cid AND m.segment_id = d.sid"
" RETURNING m.segment_id, m.customer_id),\n"
"came AS (INSERT INTO segment.membership AS m (segment_id, customer_id, since)"
" SELECT d.sid, d.cid, $1 FROM d WHERE d.enter"
" ON CONFLICT DO NOTHING RETURNING m.segment_id, m.customer_id),\n"
"logged AS (INSERT INTO segment.changes (segment, customer_id, kind, at, cause)"
" SELECT s.name, mv.customer_id, mv.kind, $1, $4"
" FROM (SELECT segment_id, customer_id, 'exit' AS kind FROM gone"
" UNION ALL SELECT segment_id, customer_id, 'enter' FROM came) mv"
" JOIN segment.segments s ON s.id = mv.segment_id"
" ORDER BY mv.kind DESC, s.name, mv.customer_id"	/* ids in a stable order: exits first */
" RETURNING id, segment, customer_id, kind)\n"
"SELECT g.segment, count(*) FILTER (WHERE g.kind = 'enter'),"
" count(*) FILTER (WHERE g.kind = 'exit'), min(g.id), max(g.id),"
" CASE WHEN count(*) <= " CppAsString2(NOTIFY_EACH_MAX) " THEN"
" pg_catalog.array_agg(pg_catalog.json_build_object('segment', g.segment,"
" 'customer_id', g.customer_id, 'kind', g.kind, 'id', g.id)::pg_catalog.text ORDER BY g.id) END"
" FROM logged g GROUP BY g.segment";

static SPIPlanPtr
prepared_plan(const char *sql, int nparams, Oid *types, int options)
{
	uint32		hash = hash_bytes((const unsigned char *) sql, strlen(sql));
	SPIPlanPtr	plan;

	for (int i = 0; i < plan_cache_used; i++)
		if (plan_cache[i].hash == hash && plan_cache[i].options == options &&
			strcmp(plan_cache[i].sql, sql) == 0)
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

	plan = SPI_prepare_cursor(sql, nparams, types, options);
	if (plan == NULL)
		elog(ERROR, "preparing the refresh statement failed: %s",
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "keeping the refresh statement failed");
	plan_cache[plan_cache_used].hash = hash;
	plan_cache[plan_cache_used].options = options;
	plan_cache[plan_cache_used].sql = MemoryContextStrdup(TopMemoryContext, sql);
	plan_cache[plan_cache_used].plan = plan;
	plan_cache_used++;
	return plan;
}

static ParamListInfo
make_params(Datum *values, bool *nulls, int n, Oid *types)
{
	ParamListInfo params = makeParamList(n);

	for (int i = 0; i < n; i++)
	{
		params->params[i].value = values[i];
		params->params[i].isnull = nulls[i];
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].ptype = types[i];
	}
	return params;
}

static SegmentResult *
find_result(SegmentResult *results, int n, int32 sid)
{
	for (int i = 0; i < n; i++)
		if (results[i].id == sid)
			return &results[i];
	elog(ERROR, "segment id %d is not in the batch", sid);
	return NULL;				/* keep the compiler quiet */
}

/* The segment ids in an int4[] (NULLs skipped) into ids; returns how many. */
static int
array_ids(Datum array, int32 *ids, int max)
{
	ArrayType  *a = DatumGetArrayTypeP(array);
	int			nitems = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	bits8	   *nulls = ARR_NULLBITMAP(a);
	int32	   *data = (int32 *) ARR_DATA_PTR(a);
	int			n = 0;

	for (int i = 0; i < nitems; i++)
	{
		if (nulls && !(nulls[i / 8] & (1 << (i % 8))))
			continue;
		if (n == max)
			elog(ERROR, "more segment ids than the batch has");
		ids[n++] = *data++;
	}
	return n;
}

static bool
contains(const int32 *ids, int n, int32 id)
{
	for (int i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static void
keep_change(DiffReceiver *r, int32 sid, Datum cid, bool enter)
{
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	values[0] = Int32GetDatum(sid);
	values[1] = cid;
	values[2] = BoolGetDatum(enter);
	tuplestore_putvalues(r->changes, r->change_desc, values, nulls);
}

static bool
diff_receive(TupleTableSlot *slot, DestReceiver *self)
{
	DiffReceiver *r = (DiffReceiver *) self;
	MemoryContext outer = MemoryContextSwitchTo(r->row_context);
	int32	   *now = palloc(sizeof(int32) * r->nresults);
	int32	   *before = palloc(sizeof(int32) * r->nresults);
	int			nnow = 0;
	int			nbefore = 0;
	bool		isnull;
	Datum		value;
	Datum		cid;

	value = slot_getattr(slot, 1, &isnull);
	if (!isnull)
		nnow = array_ids(value, now, r->nresults);
	value = slot_getattr(slot, 2, &isnull);
	if (!isnull)
		nbefore = array_ids(value, before, r->nresults);
	cid = slot_getattr(slot, 3, &isnull);

	for (int i = 0; i < nnow; i++)
	{
		find_result(r->results, r->nresults, now[i])->members++;
		if (!contains(before, nbefore, now[i]))
			keep_change(r, now[i], cid, true);
	}
	for (int i = 0; i < nbefore; i++)
		if (!contains(now, nnow, before[i]))
			keep_change(r, before[i], cid, false);

	MemoryContextSwitchTo(outer);
	MemoryContextReset(r->row_context);
	return true;
}

static void
diff_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
diff_shutdown(DestReceiver *self)
{
}

static void
diff_destroy(DestReceiver *self)
{
}

/* Writes one chunk of entries and exits and adds up what was logged. */
static void
apply_chunk(DiffReceiver *r, Datum *common, Datum *sids, Datum *cids, Datum *enters, int n)
{
	static Oid	types[5] = {TIMESTAMPTZOID, TEXTARRAYOID, INT4ARRAYOID, TEXTOID, BOOLARRAYOID};
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	SPIExecuteOptions options = {0};
	int			ret;

	values[0] = common[0];
	values[1] = PointerGetDatum(construct_array(cids, n, TEXTOID, -1, false, TYPALIGN_INT));
	values[2] = PointerGetDatum(construct_array(sids, n, INT4OID, sizeof(int32), true, TYPALIGN_INT));
	values[3] = common[3];
	values[4] = PointerGetDatum(construct_array(enters, n, BOOLOID, 1, true, TYPALIGN_CHAR));
	options.params = make_params(values, nulls, 5, types);
	ret = SPI_execute_plan_extended(prepared_plan(apply_statement, 5, types, 0), &options);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "applying segments failed: %s", SPI_result_code_string(ret));

	for (uint64 row = 0; row < SPI_processed; row++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[row];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *name = SPI_getvalue(tuple, desc, 1);
		bool		isnull;
		int64		first = DatumGetInt64(SPI_getbinval(tuple, desc, 4, &isnull));
		int64		last = DatumGetInt64(SPI_getbinval(tuple, desc, 5, &isnull));
		bool		many;			/* no payloads: more changes than are sent one by one */
		Datum		payloads = SPI_getbinval(tuple, desc, 6, &many);
		SegmentResult *res = NULL;
		MemoryContext chunk;

		for (int i = 0; i < r->nresults; i++)
			if (strcmp(r->results[i].name, name) == 0)
				res = &r->results[i];
		if (res == NULL)
			elog(ERROR, "segment \"%s\" is not in the batch", name);

		res->entered += DatumGetInt64(SPI_getbinval(tuple, desc, 2, &isnull));
		res->exited += DatumGetInt64(SPI_getbinval(tuple, desc, 3, &isnull));
		if (res->first_id == 0 || first < res->first_id)
			res->first_id = first;
		res->last_id = Max(res->last_id, last);
		/* kept only while every change so far has its own */
		if (!many && res->entered + res->exited <= NOTIFY_EACH_MAX)
		{
			ArrayIterator it = array_create_iterator(DatumGetArrayTypeP(payloads), 0, NULL);
			Datum		payload;
			bool		payload_null;

			chunk = MemoryContextSwitchTo(r->context);
			while (array_iterate(it, &payload, &payload_null))
				res->payloads = lappend(res->payloads, TextDatumGetCString(payload));
			MemoryContextSwitchTo(chunk);
			array_free_iterator(it);
		}
	}
}

/*
 * Announces a segment's changes on segment_changes, delivered at commit:
 * the payloads json_build_object() made for each, or a summary.
 */
static void
notify_changes(SegmentResult *res)
{
	ListCell   *lc;
	StringInfoData summary;

	if (res->first_id == 0)
		return;
	if (res->entered + res->exited <= NOTIFY_EACH_MAX)
	{
		foreach(lc, res->payloads)
			Async_Notify("segment_changes", lfirst(lc));
		return;
	}
	/* the same form as json_build_object() gives */
	initStringInfo(&summary);
	appendStringInfoString(&summary, "{\"segment\" : ");
	escape_json(&summary, res->name);
	appendStringInfo(&summary, ", \"changes\" : " INT64_FORMAT ", \"first_id\" : " INT64_FORMAT
					 ", \"last_id\" : " INT64_FORMAT "}",
					 res->entered + res->exited, res->first_id, res->last_id);
	Async_Notify("segment_changes", summary.data);
}

/* Writes the entries and exits the receiver kept, APPLY_CHUNK at a time. */
static void
apply_changes(DiffReceiver *r, Datum *common)
{
	MemoryContext chunk_context = AllocSetContextCreate(CurrentMemoryContext, "segment apply chunk",
														ALLOCSET_DEFAULT_SIZES);
	MemoryContext outer = CurrentMemoryContext;
	TupleTableSlot *slot = MakeSingleTupleTableSlot(r->change_desc, &TTSOpsMinimalTuple);
	Datum	   *sids = palloc(sizeof(Datum) * APPLY_CHUNK);
	Datum	   *cids = palloc(sizeof(Datum) * APPLY_CHUNK);
	Datum	   *enters = palloc(sizeof(Datum) * APPLY_CHUNK);
	int			n = 0;

	tuplestore_rescan(r->changes);
	for (;;)
	{
		bool		more = tuplestore_gettupleslot(r->changes, true, false, slot);
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		if (more)
		{
			MemoryContextSwitchTo(chunk_context);
			sids[n] = slot_getattr(slot, 1, &isnull);
			cids[n] = PointerGetDatum(DatumGetTextPCopy(slot_getattr(slot, 2, &isnull)));
			enters[n] = slot_getattr(slot, 3, &isnull);
			MemoryContextSwitchTo(outer);
			n++;
		}
		if (n == APPLY_CHUNK || (!more && n > 0))
		{
			MemoryContextSwitchTo(chunk_context);
			apply_chunk(r, common, sids, cids, enters, n);
			MemoryContextSwitchTo(outer);
			MemoryContextReset(chunk_context);
			n = 0;
		}
		if (!more)
			break;
	}
	ExecDropSingleTupleTableSlot(slot);
	MemoryContextDelete(chunk_context);
}

/*
 * Whether the keys are more than half the customers table's rows.  Measured
 * on the benchmark store: at 14% of the customers one index lookup each is
 * still 2.7 times faster than a pass over everything; at 63% they cost the
 * same.
 */
static bool
many_customers(int nkeys, Compiler *cx)
{
	return nkeys > 1000 && nkeys > 0.5 * compiler_customer_rows(cx);
}

static int
compare_results_by_name(const void *a, const void *b)
{
	return strcmp(((const SegmentResult *) a)->name, ((const SegmentResult *) b)->name);
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
	bool		for_customers = !PG_ARGISNULL(3);
	int			nkeys = 0;
	ArrayType  *batch;
	Datum		values[NPARAMS];
	bool		nulls[NPARAMS] = {false, false, false, false};
	List	   *segment_ids = NIL;
	List	   *predicates = NIL;
	Compiler   *cx;
	char	   *evaluation;
	int			options = 0;
	SPIExecuteOptions exec = {0};
	DiffReceiver receiver = {{0}};
	int			ret;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("segments, as_of and cause must not be null"));
	batch = PG_GETARG_ARRAYTYPE_P(0);
	if (for_customers)
	{
		ArrayType  *keys = PG_GETARG_ARRAYTYPE_P(3);

		nkeys = ArrayGetNItems(ARR_NDIM(keys), ARR_DIMS(keys));
	}
	InitMaterializedSRF(fcinfo, 0);

	SPI_connect();
	cx = compile_segments(batch, &segment_ids, &predicates);

	if (for_customers && many_customers(nkeys, cx))
	{
		/*
		 * For most of the customers, one pass over everything costs less
		 * than index lookups per customer: aggregate all rows and keep the
		 * given customers (the array is hashed).
		 */
		evaluation = psprintf("SELECT e.cid, e.sids FROM (%s) e WHERE e.cid = ANY ($2)",
							  compiler_customer_query(cx, segment_ids, predicates, false));
		options = CURSOR_OPT_PARALLEL_OK;
	}
	else
	{
		evaluation = compiler_customer_query(cx, segment_ids, predicates, for_customers);
		/*
		 * A pass over everything may use parallel workers; index lookups for
		 * a few customers must not, as starting workers costs more than they
		 * do.
		 */
		if (!for_customers)
			options = CURSOR_OPT_PARALLEL_OK;
		else if (nkeys <= GENERIC_PLAN_MAX_KEYS)
			options = CURSOR_OPT_GENERIC_PLAN;
	}

	/* the batch's segments, by name, as the caller gets them */
	receiver.nresults = list_length(segment_ids);
	receiver.results = palloc0(sizeof(SegmentResult) * receiver.nresults);
	for (int i = 0; i < receiver.nresults; i++)
	{
		receiver.results[i].id = list_nth_int(segment_ids, i);
		receiver.results[i].name = catalog_find_segment_id(compiler_catalog(cx),
															receiver.results[i].id)->name;
	}

	receiver.pub.receiveSlot = diff_receive;
	receiver.pub.rStartup = diff_startup;
	receiver.pub.rShutdown = diff_shutdown;
	receiver.pub.rDestroy = diff_destroy;
	receiver.pub.mydest = DestNone;
	receiver.change_desc = CreateTemplateTupleDesc(3);
	TupleDescInitEntry(receiver.change_desc, 1, "sid", INT4OID, -1, 0);
	TupleDescInitEntry(receiver.change_desc, 2, "cid", TEXTOID, -1, 0);
	TupleDescInitEntry(receiver.change_desc, 3, "enter", BOOLOID, -1, 0);
	receiver.changes = tuplestore_begin_heap(true, false, work_mem);
	receiver.context = CurrentMemoryContext;
	receiver.row_context = AllocSetContextCreate(CurrentMemoryContext, "segment difference row",
												 ALLOCSET_SMALL_SIZES);

	values[0] = PG_GETARG_DATUM(1);
	values[1] = for_customers ? PG_GETARG_DATUM(3) : (Datum) 0;
	nulls[1] = !for_customers;
	values[2] = PointerGetDatum(batch);
	values[3] = PG_GETARG_DATUM(2);
	exec.params = make_params(values, nulls, NPARAMS, param_types);
	exec.dest = &receiver.pub;
	ret = SPI_execute_plan_extended(prepared_plan(difference_statement(evaluation, for_customers),
												  NPARAMS, param_types, options),
									&exec);
	/* SPI says SPI_OK_UTILITY for a SELECT whose rows go to a DestNone receiver */
	if (ret != SPI_OK_SELECT && ret != SPI_OK_UTILITY)
		elog(ERROR, "evaluating segments failed: %s", SPI_result_code_string(ret));

	apply_changes(&receiver, values);
	tuplestore_end(receiver.changes);

	qsort(receiver.results, receiver.nresults, sizeof(SegmentResult), compare_results_by_name);
	for (int i = 0; i < receiver.nresults; i++)
	{
		SegmentResult *res = &receiver.results[i];
		Datum		out[6];
		bool		outnulls[6] = {false, false, false, false, res->first_id == 0, res->first_id == 0};

		out[0] = CStringGetTextDatum(res->name);
		out[1] = Int64GetDatum(res->members);
		out[2] = Int64GetDatum(res->entered);
		out[3] = Int64GetDatum(res->exited);
		out[4] = Int64GetDatum(res->first_id);
		out[5] = Int64GetDatum(res->last_id);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, outnulls);
		notify_changes(res);
	}
	SPI_finish();
	return (Datum) 0;
}
