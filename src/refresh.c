/*
 * refresh.c: the refresh engine (refresh.h).
 *
 * The segments asked for are evaluated in as few passes as their
 * dependencies allow (compile_pass(): a segment read by another of the same
 * pass is read as its predicate).  Each pass is two statements.  The first
 * only reads: per customer, the segments the evaluation (compile.c) puts
 * them in beside those stored, as two arrays, streamed into a receiver here
 * that counts members and keeps the entries and exits in a tuplestore.
 * Being read-only, it may run in parallel, and when nothing changed nothing
 * is written at all.  The second writes the difference, a chunk at a time:
 * deletes exits, inserts entries and logs both, in one statement.  The
 * changes are then announced on the channel segment_changes.
 *
 * Triggers run this for a few customers at a time, so the compiled passes
 * and their plans are kept per backend until the catalog changes: planning
 * the evaluation costs more than running it for one customer.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "clock_store.h"
#include "commands/async.h"
#include "compile.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "kept.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "refresh.h"
#include "stored_membership.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#if PG_VERSION_NUM < 150000
#error "segment needs PostgreSQL 15 or later"
#endif

PG_FUNCTION_INFO_V1(segment_apply);
PG_FUNCTION_INFO_V1(segment_with_dependants);

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

/* The parameters of every statement here, in this order. */
#define NPARAMS 4
static Oid	param_types[NPARAMS] = {TIMESTAMPTZOID, TEXTARRAYOID, INT4ARRAYOID, TEXTOID};

/* Per segment of a pass: what the caller gets back. */
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
	RfmValues  *rfm;			/* collects columns 4 to 6, unless NULL */
	StoredMembership *stored;	/* what is stored, when column 2 is not given */
} DiffReceiver;

/* How a pass is evaluated, by how many customers it is for. */
typedef enum EvalMode
{
	EVAL_ALL,					/* everyone: one pass, maybe in parallel */
	EVAL_FEW,					/* a few: a generic plan of index lookups */
	EVAL_SOME,					/* more: planned for the keys given, maybe in parallel */
	EVAL_MANY,					/* most: everyone, keeping the keys given */
	EVAL_STORE,					/* the clock's: key by key, features from its store */
	EVAL_MODES
} EvalMode;

/*
 * Planned for the keys given means a custom plan every time: left to the
 * plan cache, the sixth run would get the generic plan, costed for ten keys.
 */
static const int eval_options[EVAL_MODES] = {
	CURSOR_OPT_PARALLEL_OK,
	CURSOR_OPT_GENERIC_PLAN,
	CURSOR_OPT_PARALLEL_OK | CURSOR_OPT_CUSTOM_PLAN,
	CURSOR_OPT_PARALLEL_OK | CURSOR_OPT_CUSTOM_PLAN,
	CURSOR_OPT_GENERIC_PLAN
};

/*
 * $1 as_of, $2 customer keys (text[]) or NULL for all, $3 the pass's
 * segment ids: per customer, the segments the evaluation puts them in and
 * those stored, as int4[] (the first with NULLs where not a member).  A
 * customer stored but no longer evaluated (deleted) has NULL for the first.
 * For everyone or most customers, the stored are NULL: run_pass() reads
 * them into memory (stored_membership.c).
 */
static char *
difference_statement(Compiler *cx, List *segment_ids, List *predicates, EvalMode mode, bool rfm)
{
	/* columns 4 to 6, NULL for a customer not evaluated */
	const char *rfm_columns = rfm ? ", e.rfm_last, e.rfm_frequency, e.rfm_monetary" : "";

	switch (mode)
	{
		case EVAL_ALL:
			/* compared with what is stored in memory (stored_membership.c) */
			return psprintf("SELECT e.sids, NULL::pg_catalog.int4[], e.cid FROM (%s) e",
							compiler_customer_query(cx, segment_ids, predicates, ROWS_ALL));
		case EVAL_FEW:
		case EVAL_STORE:
			/* key by key, each a few index lookups: no join can need a hash */
			return psprintf("SELECT e.sids, (SELECT pg_catalog.array_agg(m.segment_id)"
							" FROM segment.membership m WHERE m.customer_id = k.cid AND m.segment_id = ANY ($3)),"
							" k.cid%s FROM pg_catalog.unnest($2) k(cid) LEFT JOIN LATERAL (%s) e ON true",
							rfm_columns, compiler_customer_query(cx, segment_ids, predicates, ROWS_EACH));
		case EVAL_MANY:
			/* everyone's rows, the keys kept (the array is hashed) */
			return psprintf("SELECT e.sids, NULL::pg_catalog.int4[], e.cid%s FROM (%s) e"
							" WHERE e.cid = ANY ($2)", rfm_columns,
							compiler_customer_query(cx, segment_ids, predicates, ROWS_ALL));
		case EVAL_SOME:
			/* by key; the segment as a mere filter, since it matches most rows */
			return psprintf("SELECT e.sids, m.sids, COALESCE(e.cid, m.customer_id)%s"
							" FROM (%s) e FULL JOIN (%s) m ON m.customer_id = e.cid",
							rfm_columns,
							compiler_customer_query(cx, segment_ids, predicates, ROWS_LISTED),
							"SELECT m.customer_id, pg_catalog.array_agg(m.segment_id) AS sids"
							" FROM segment.membership m"
							" WHERE m.customer_id = ANY ($2) AND (m.segment_id = ANY ($3)) IS TRUE"
							" GROUP BY m.customer_id");
		case EVAL_MODES:
			break;
	}
	return NULL;
}

/*
 * $1 as_of, $4 the cause; $2 customer keys, $3 segment ids, with the
 * same positions in both, and $5 whether each enters (or exits).  An entry
 * is a pair the evaluation found not stored, and no one else can store it
 * meanwhile: a whole-segment writer holds the segment FOR UPDATE, and one
 * maintaining a customer holds it FOR SHARE and the customer's turn.  So
 * no ON CONFLICT: it cost a sixth of writing into empty membership, and a
 * duplicate, were that ever wrong, is better an error than skipped.
 */
static const char apply_statement[] =
"WITH d AS (SELECT * FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($2),"
" pg_catalog.unnest($5::pg_catalog.bool[])) AS d(sid, cid, enter)),\n"
"gone AS (DELETE FROM segment.membership m USING d"
" WHERE NOT d.enter AND m.customer_id = d.cid AND m.segment_id = d.sid"
" RETURNING m.segment_id, m.customer_id),\n"
"came AS (INSERT INTO segment.membership AS m (segment_id, customer_id, since)"
" SELECT d.sid, d.cid, $1 FROM d WHERE d.enter"
" RETURNING m.segment_id, m.customer_id),\n"
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

static SegmentResult *
find_result(SegmentResult *results, int n, int32 sid)
{
	for (int i = 0; i < n; i++)
		if (results[i].id == sid)
			return &results[i];
	elog(ERROR, "segment id %d is not in the pass", sid);
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
			elog(ERROR, "more segment ids than the pass has");
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

/* An array of size elements, allocated anew or grown. */
static void *
grow(void *array, Size element, int size)
{
	return array ? repalloc(array, element * size) : palloc(element * size);
}

/* Keeps an evaluated customer's RFM values (columns 4 to 6), in r->context. */
static void
keep_rfm_values(DiffReceiver *r, TupleTableSlot *slot, Datum cid)
{
	RfmValues  *v = r->rfm;
	bool		isnull;
	Datum		frequency = slot_getattr(slot, 5, &isnull);
	MemoryContext old;

	if (isnull)					/* stored, not evaluated: not in the customers table */
		return;
	old = MemoryContextSwitchTo(r->context);
	if (v->n == v->size)
	{
		v->size = v->size ? 2 * v->size : 64;
		v->cids = grow(v->cids, sizeof(Datum), v->size);
		v->last = grow(v->last, sizeof(Datum), v->size);
		v->last_null = grow(v->last_null, sizeof(bool), v->size);
		v->frequency = grow(v->frequency, sizeof(Datum), v->size);
		v->monetary = grow(v->monetary, sizeof(Datum), v->size);
		v->monetary_null = grow(v->monetary_null, sizeof(bool), v->size);
	}
	v->cids[v->n] = datumCopy(cid, false, -1);
	v->last[v->n] = slot_getattr(slot, 4, &v->last_null[v->n]);
	v->frequency[v->n] = frequency;
	v->monetary[v->n] = slot_getattr(slot, 6, &v->monetary_null[v->n]);
	if (!v->monetary_null[v->n])
		v->monetary[v->n] = datumCopy(v->monetary[v->n], false, -1);
	v->n++;
	MemoryContextSwitchTo(old);
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
	cid = slot_getattr(slot, 3, &isnull);
	if (r->stored)
		nbefore = stored_membership_take(r->stored, cid, before);
	else
	{
		value = slot_getattr(slot, 2, &isnull);
		if (!isnull)
			nbefore = array_ids(value, before, r->nresults);
	}
	if (r->rfm)
		keep_rfm_values(r, slot, cid);

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

/* A customer stored but not evaluated (gone from the customers table) exits. */
static void
exit_unseen(void *arg, Datum cid, const int32 *sids, int nsids)
{
	for (int i = 0; i < nsids; i++)
		keep_change((DiffReceiver *) arg, sids[i], cid, false);
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
	static SPIPlanPtr plan = NULL;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	SPIExecuteOptions options = {0};
	int			level;
	int			ret;

	values[0] = common[0];
	values[1] = PointerGetDatum(construct_array(cids, n, TEXTOID, -1, false, TYPALIGN_INT));
	values[2] = PointerGetDatum(construct_array(sids, n, INT4OID, sizeof(int32), true, TYPALIGN_INT));
	values[3] = common[3];
	values[4] = PointerGetDatum(construct_array(enters, n, BOOLOID, 1, true, TYPALIGN_CHAR));
	options.params = kept_params(values, nulls, 5, types);
	/* exits are deleted by key: hashing all of membership cost 60 ms a chunk at 200,000 rows */
	level = kept_index_joins();
	ret = SPI_execute_plan_extended(kept_plan(&plan, apply_statement, 5, types, 0), &options);
	kept_joins_restore(level);
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
			elog(ERROR, "segment \"%s\" is not in the pass", name);

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

/* ---------------------------------------------------------------------------
 * Compiled passes, kept until the catalog changes
 * ---------------------------------------------------------------------------
 */

/* One evaluation of segments that can be evaluated together. */
typedef struct Pass
{
	int			nsegments;
	int32	   *ids;
	char	  **names;
	char	   *sql[EVAL_MODES];	/* NULL for the modes it is not used in */
	SPIPlanPtr	plan[EVAL_MODES];
	bool		store_checked;	/* whether sql[EVAL_STORE] was tried: NULL if not stored */
	bool		rfm;			/* its customers' RFM values are columns 4 to 6 */
} Pass;

/* The passes for one set of segments, for everyone or for given customers. */
typedef struct Compiled
{
	List	   *ids;			/* as asked for, sorted */
	bool		per_customer;
	bool		rfm;			/* the first pass gives RFM's values */
	List	   *passes;
} Compiled;

/* Beyond this many sets, all are dropped and compiled again as needed. */
#define COMPILED_MAX 64

static int64 compiled_generation = -1;
static MemoryContext compiled_context = NULL;
static List *compiled = NIL;

/* Retires every kept pass: the catalog they were compiled from changed. */
static void
forget_compiled(void)
{
	ListCell   *lc;

	foreach(lc, compiled)
	{
		ListCell   *p;

		foreach(p, ((Compiled *) lfirst(lc))->passes)
			for (int m = 0; m < EVAL_MODES; m++)
				kept_retire(((Pass *) lfirst(p))->plan[m]);
	}
	if (compiled_context)
		kept_retire_context(compiled_context);
	compiled_context = AllocSetContextCreate(TopMemoryContext, "segment compiled passes",
											 ALLOCSET_DEFAULT_SIZES);
	compiled = NIL;
}

/* A pass's statements, kept in compiled_context; the compiler's work is not. */
static Pass *
make_pass(Catalog *cat, Compiler *cx, List *segment_ids, List *predicates, bool per_customer,
		  bool rfm)
{
	Pass	   *pass = MemoryContextAllocZero(compiled_context, sizeof(Pass));
	ListCell   *lc;

	pass->nsegments = list_length(segment_ids);
	pass->ids = MemoryContextAlloc(compiled_context, sizeof(int32) * pass->nsegments);
	pass->names = MemoryContextAlloc(compiled_context, sizeof(char *) * pass->nsegments);
	foreach(lc, segment_ids)
	{
		pass->ids[foreach_current_index(lc)] = lfirst_int(lc);
		pass->names[foreach_current_index(lc)] =
			MemoryContextStrdup(compiled_context, catalog_find_segment_id(cat, lfirst_int(lc))->name);
	}
	/* the store's statement is made when the clock first needs it */
	for (int m = 0; m < EVAL_STORE; m++)
		if ((m == EVAL_ALL) != per_customer)
			pass->sql[m] = difference_statement(cx, segment_ids, predicates, (EvalMode) m, rfm);
	pass->rfm = rfm;
	for (int m = 0; m < EVAL_MODES; m++)
		if (pass->sql[m])
			pass->sql[m] = MemoryContextStrdup(compiled_context, pass->sql[m]);
	return pass;
}

/*
 * The passes evaluating `ids`, compiled now or earlier for this catalog;
 * with rfm, the first also aggregates RFM's values (the aggregates depend
 * on the catalog's cut points only).
 */
static List *
compiled_passes(Catalog *cat, List *ids, bool per_customer, const RfmAggregates *rfm)
{
	List	   *sorted = list_copy(ids);
	List	   *pending;
	List	   *passes = NIL;
	Compiled   *entry;
	MemoryContext old;
	ListCell   *lc;

	if (compiled_generation != cat->generation || list_length(compiled) >= COMPILED_MAX)
	{
		forget_compiled();
		compiled_generation = cat->generation;
	}
	list_sort(sorted, list_int_cmp);
	foreach(lc, compiled)
	{
		entry = lfirst(lc);
		if (entry->per_customer == per_customer && entry->rfm == (rfm != NULL) &&
			equal(entry->ids, sorted))
			return entry->passes;
	}

	pending = catalog_dependency_order(cat, sorted);
	while (pending != NIL)
	{
		List	   *segment_ids;
		List	   *predicates;
		Compiler   *cx = compile_pass(cat, pending, false, &segment_ids, &predicates);
		bool		with_rfm = rfm != NULL && passes == NIL;

		if (segment_ids == NIL)
			elog(ERROR, "no segment of the pass could be compiled");
		if (with_rfm)
			compiler_add_rfm_values(cx, rfm->in_window, rfm->last, rfm->frequency);
		passes = lappend(passes, make_pass(cat, cx, segment_ids, predicates, per_customer, with_rfm));
		pending = list_difference_int(pending, segment_ids);
	}

	old = MemoryContextSwitchTo(compiled_context);
	entry = palloc0(sizeof(Compiled));
	entry->ids = list_copy(sorted);
	entry->per_customer = per_customer;
	entry->rfm = rfm != NULL;
	entry->passes = list_copy(passes);
	compiled = lappend(compiled, entry);
	MemoryContextSwitchTo(old);
	return entry->passes;
}

/*
 * Whether the keys are more than half the customers table's rows.  Measured
 * on the benchmark store: at 14% of the customers one index lookup each is
 * still 2.7 times faster than a pass over everything; at 63% they cost the
 * same.
 */
static bool
many_customers(Catalog *cat, int nkeys)
{
	Relation	rel;
	float4		rows;

	if (nkeys <= 1000)
		return false;
	rel = table_open(cat->src[SRC_CUSTOMERS].relid, AccessShareLock);
	rows = rel->rd_rel->reltuples;
	table_close(rel, AccessShareLock);
	return nkeys > 0.5 * rows;
}

static EvalMode
eval_mode(Catalog *cat, ArrayType *keys)
{
	int			nkeys;

	if (keys == NULL)
		return EVAL_ALL;
	nkeys = ArrayGetNItems(ARR_NDIM(keys), ARR_DIMS(keys));
	if (nkeys <= GENERIC_PLAN_MAX_KEYS)
		return EVAL_FEW;
	return many_customers(cat, nkeys) ? EVAL_MANY : EVAL_SOME;
}

/* ---------------------------------------------------------------------------
 * Running a pass
 * ---------------------------------------------------------------------------
 */

static int
compare_results_by_name(const void *a, const void *b)
{
	return strcmp(((const SegmentResult *) a)->name, ((const SegmentResult *) b)->name);
}

/* Records a full evaluation on its segments, for segment.status. */
static void
record_refresh(Pass *pass, Datum as_of, TimestampTz started)
{
	static SPIPlanPtr plan = NULL;
	static Oid	types[3] = {INT4ARRAYOID, TIMESTAMPTZOID, FLOAT8OID};
	Datum		values[3];
	Datum	   *ids = palloc(sizeof(Datum) * pass->nsegments);

	for (int i = 0; i < pass->nsegments; i++)
		ids[i] = Int32GetDatum(pass->ids[i]);
	values[0] = PointerGetDatum(construct_array(ids, pass->nsegments, INT4OID, sizeof(int32),
												true, TYPALIGN_INT));
	values[1] = as_of;
	values[2] = Float8GetDatum((GetCurrentTimestamp() - started) / 1000.0);
	kept_run(&plan,
			 "UPDATE segment.segments s SET refreshed_at = pg_catalog.clock_timestamp(),"
			 " as_of = $2, refresh_ms = $3 WHERE s.id = ANY ($1)",
			 3, types, values, NULL, false, SPI_OK_UPDATE);
}

/* Evaluates one pass and applies its difference; appends EngineRows. */
static List *
run_pass(Pass *pass, EvalMode mode, Datum as_of, Datum cause, ArrayType *keys, List *rows,
		 RfmValues *rfm)
{
	Datum		values[NPARAMS];
	bool		nulls[NPARAMS] = {false, false, false, false};
	Datum	   *ids = palloc(sizeof(Datum) * pass->nsegments);
	SPIExecuteOptions exec = {0};
	DiffReceiver receiver = {{0}};
	TimestampTz started = GetCurrentTimestamp();
	int			ret;

	receiver.nresults = pass->nsegments;
	receiver.results = palloc0(sizeof(SegmentResult) * pass->nsegments);
	for (int i = 0; i < pass->nsegments; i++)
	{
		receiver.results[i].id = pass->ids[i];
		receiver.results[i].name = pass->names[i];
		ids[i] = Int32GetDatum(pass->ids[i]);
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
	receiver.rfm = pass->rfm ? rfm : NULL;
	receiver.row_context = AllocSetContextCreate(CurrentMemoryContext, "segment difference row",
												 ALLOCSET_SMALL_SIZES);

	values[0] = as_of;
	values[1] = PointerGetDatum(keys);
	nulls[1] = keys == NULL;
	values[2] = PointerGetDatum(construct_array(ids, pass->nsegments, INT4OID, sizeof(int32),
												true, TYPALIGN_INT));
	values[3] = cause;
	exec.params = kept_params(values, nulls, NPARAMS, param_types);
	exec.dest = &receiver.pub;
	if (mode == EVAL_ALL || mode == EVAL_MANY)
	{
		/*
		 * What is stored and the evaluation, in one snapshot as one
		 * statement would be; it sees what earlier passes wrote.
		 */
		CommandCounterIncrement();
		PushActiveSnapshot(GetTransactionSnapshot());
		receiver.stored = stored_membership_read(pass->ids, pass->nsegments, values[2], keys);
		exec.read_only = true;
	}
	ret = SPI_execute_plan_extended(kept_plan(&pass->plan[mode], pass->sql[mode], NPARAMS,
											  param_types, eval_options[mode]),
									&exec);
	/* SPI says SPI_OK_UTILITY for a SELECT whose rows go to a DestNone receiver */
	if (ret != SPI_OK_SELECT && ret != SPI_OK_UTILITY)
		elog(ERROR, "evaluating segments failed: %s", SPI_result_code_string(ret));
	if (receiver.stored)
	{
		stored_membership_unseen(receiver.stored, exit_unseen, &receiver);
		PopActiveSnapshot();
		stored_membership_free(receiver.stored);
	}

	apply_changes(&receiver, values);
	tuplestore_end(receiver.changes);
	MemoryContextDelete(receiver.row_context);
	if (keys == NULL)
		record_refresh(pass, as_of, started);

	qsort(receiver.results, receiver.nresults, sizeof(SegmentResult), compare_results_by_name);
	for (int i = 0; i < receiver.nresults; i++)
	{
		SegmentResult *res = &receiver.results[i];
		EngineRow  *row = palloc(sizeof(EngineRow));

		row->name = res->name;
		row->members = res->members;
		row->entered = res->entered;
		row->exited = res->exited;
		rows = lappend(rows, row);
		notify_changes(res);
	}
	return rows;
}

/*
 * Whether a pass can read its features from the clock's store: all of them
 * are kept there.  Its statement is compiled again, the first time, with
 * the same segments in the same order (compiling costs far less than one
 * evaluation).
 */
static bool
pass_reads_store(Catalog *cat, Pass *pass)
{
	List	   *ids = NIL;
	List	   *segment_ids;
	List	   *predicates;
	Compiler   *cx;
	StoreLayout *layout;

	if (pass->store_checked)
		return pass->sql[EVAL_STORE] != NULL;
	layout = clock_store_layout(cat);
	for (int i = 0; i < pass->nsegments; i++)
		ids = lappend_int(ids, pass->ids[i]);
	cx = compile_pass(cat, ids, true, &segment_ids, &predicates);
	if (layout && compiler_read_store(cx, layout))
		pass->sql[EVAL_STORE] = MemoryContextStrdup(compiled_context,
													difference_statement(cx, segment_ids, predicates,
																		 EVAL_STORE, false));
	pass->store_checked = true;
	return pass->sql[EVAL_STORE] != NULL;
}

static List *
apply_passes(Catalog *cat, List *ids, Datum as_of, const char *cause, ArrayType *keys,
			 const RfmAggregates *rfm, RfmValues *values)
{
	List	   *passes;
	List	   *rows = NIL;
	EvalMode	mode = eval_mode(cat, keys);
	Datum		cause_text = CStringGetTextDatum(cause);
	/* the clock reads the store when tick() has brought it to the same time */
	bool		store = keys != NULL && strcmp(cause, "clock") == 0 && clock_store_current(cat, as_of);
	bool		freshened = false;
	ListCell   *lc;

	if (ids == NIL)
		return NIL;
	passes = compiled_passes(cat, ids, keys != NULL, rfm);
	foreach(lc, passes)
	{
		Pass	   *pass = lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (store && pass_reads_store(cat, pass))
		{
			if (!freshened)
				clock_store_freshen(cat, keys, as_of);
			freshened = true;
			rows = run_pass(pass, EVAL_STORE, as_of, cause_text, keys, rows, NULL);
		}
		else
			rows = run_pass(pass, mode, as_of, cause_text, keys, rows, values);
	}
	return rows;
}

List *
engine_apply(Catalog *cat, List *ids, Datum as_of, const char *cause, ArrayType *keys)
{
	return apply_passes(cat, ids, as_of, cause, keys, NULL, NULL);
}

List *
engine_apply_with_rfm(Catalog *cat, List *ids, Datum as_of, ArrayType *keys,
					  const RfmAggregates *rfm, RfmValues *values)
{
	Assert(keys != NULL && rfm != NULL && values != NULL);
	return apply_passes(cat, ids, as_of, "data", keys, rfm, values);
}

List *
int_array_to_list(ArrayType *array)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *result = NIL;

	deconstruct_array(array, INT4OID, sizeof(int32), true, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("segment ids must not be null"));
		result = lappend_int(result, DatumGetInt32(elems[i]));
	}
	return result;
}

/*
 * segment._apply(ids int4[], as_of timestamptz, cause text, customers text[])
 * returns (segment, members, entered, exited): the engine, for SQL callers.
 * members counts the evaluated customers who are members.
 */
Datum
segment_apply(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *rows;
	ListCell   *lc;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("as_of must not be null"));
	if (PG_ARGISNULL(0) || PG_ARGISNULL(2))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("segments and cause must not be null"));
	InitMaterializedSRF(fcinfo, 0);

	SPI_connect();
	rows = engine_apply(catalog_current(false), int_array_to_list(PG_GETARG_ARRAYTYPE_P(0)),
						PG_GETARG_DATUM(1), text_to_cstring(PG_GETARG_TEXT_PP(2)),
						PG_ARGISNULL(3) ? NULL : PG_GETARG_ARRAYTYPE_P(3));
	foreach(lc, rows)
	{
		EngineRow  *row = lfirst(lc);
		Datum		out[4];
		bool		outnulls[4] = {false, false, false, false};

		out[0] = CStringGetTextDatum(row->name);
		out[1] = Int64GetDatum(row->members);
		out[2] = Int64GetDatum(row->entered);
		out[3] = Int64GetDatum(row->exited);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, outnulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/*
 * segment._with_dependants(ids int4[], maintained_only boolean) returns
 * int4[]: the segments and every segment that reads them, directly or not;
 * with maintained_only, only those in incremental mode.
 */
Datum
segment_with_dependants(PG_FUNCTION_ARGS)
{
	List	   *ids = int_array_to_list(PG_GETARG_ARRAYTYPE_P(0));
	bool		maintained_only = PG_GETARG_BOOL(1);
	MemoryContext caller = CurrentMemoryContext;
	List	   *reached;
	Datum	   *elems;
	int			n = 0;
	ListCell   *lc;

	SPI_connect();
	reached = catalog_with_dependants(catalog_current(true), ids, maintained_only);
	elems = MemoryContextAlloc(caller, sizeof(Datum) * Max(list_length(reached), 1));
	foreach(lc, reached)
		elems[n++] = Int32GetDatum(lfirst_int(lc));
	SPI_finish();
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, INT4OID, sizeof(int32), true, TYPALIGN_INT));
}
