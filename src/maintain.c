/*
 * maintain.c: the statement trigger on the store's tracked tables.
 *
 * After an insert, update, delete or truncate it re-evaluates, in the same
 * transaction, only the customers the statement touched, and only the
 * segments that read that table (with those that read them), and rescores
 * their RFM when orders changed; new orders that no item names yet leave out
 * the segments that read orders only through their items (when an index on
 * the items' order column makes telling so one lookup).  It runs on every
 * order insert, so what it derives from the catalog is kept per backend
 * until the catalog changes, the touched customers are read from the
 * transition tables directly, and every statement it runs has a kept plan.
 *
 * Concurrency: it takes a share lock on each segment it maintains, so it
 * waits for a running define or full refresh of one; then one row per
 * customer in segment.customer_turns, in key order, so two transactions
 * maintaining one customer take turns (READ COMMITTED) or the second fails
 * to serialize (REPEATABLE READ and above).  Different customers never wait.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "clock_store.h"
#include "commands/trigger.h"
#include "compile.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "kept.h"
#include "miscadmin.h"
#include "refresh.h"
#include "rescore.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(segment_maintain);
PG_FUNCTION_INFO_V1(segment_take_turns);

/* What a change to one kind of source means, as of a catalog generation. */
typedef struct SourcePlan
{
	int64		generation;	/* of the catalog it was derived from */
	List	   *ids;			/* segments to re-evaluate, dependants included */
	bool		rescore;		/* orders, with RFM cut points to rescore with */
	bool		ids_read_rfm;	/* a segment of ids reads the scores rescored */
	char	   *column;			/* of the changed rows: the customer, order or product */
	bool		indirect;		/* order items, products: customers through orders */
	char	   *customers_sql;	/* their customers, $1 text[]; NULL with orders untracked */
	SPIPlanPtr	customers_plan;

	/*
	 * Orders: what an INSERT of orders that no item names yet can change,
	 * that is ids less the segments that read orders only through their
	 * items; items_sql finds whether an item names one of them ($1 text[]).
	 * NULL items_sql when that is all of ids, or when no index on the items'
	 * order column makes finding out one lookup.
	 */
	List	   *ids_without_items;
	char	   *items_sql;
	SPIPlanPtr	items_plan;
} SourcePlan;

static SourcePlan plans[SRC_COUNT];
static bool plans_initialized = false;

/*
 * Whether a segment that reads orders reads their own rows or RFM scores,
 * not only their items (through the orders).  Sources alone do not say, so
 * the rule is bound again, once per catalog generation.
 */
static bool
reads_order_rows(Catalog *cat, SegmentEntry *seg)
{
	RuleDeps	deps = {0};

	if (seg->reads_rfm || !seg->reads_source[SRC_ITEMS])
		return true;
	compiler_add_rule(compiler_create(cat), seg->name, seg->rule, &deps);
	return deps.order_rows;
}

/*
 * Whether a valid, non-partial index of the relation starts with the column
 * (as segment._indexes_led_by() finds them for the tracking functions'
 * warning): what makes the probe for a new order's items one index lookup
 * rather than a scan of every order item.  Asked once per catalog: creating
 * or dropping an index invalidates the table's relcache entry, and with it
 * the catalog (catalog.c).
 */
static bool
column_leads_an_index(Oid relid, const char *column)
{
	AttrNumber	attnum = get_attnum(relid, column);
	Relation	rel = table_open(relid, AccessShareLock);
	List	   *indexes = RelationGetIndexList(rel);
	bool		found = false;
	ListCell   *lc;

	foreach(lc, indexes)
	{
		HeapTuple	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index index;

		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "cache lookup failed for index %u", lfirst_oid(lc));
		index = (Form_pg_index) GETSTRUCT(tuple);
		found = index->indisvalid && index->indkey.values[0] == attnum &&
			heap_attisnull(tuple, Anum_pg_index_indpred, NULL);
		ReleaseSysCache(tuple);
		if (found)
			break;
	}
	list_free(indexes);
	table_close(rel, AccessShareLock);
	return found;
}

static void
build_source_plan(Catalog *cat, SourceKind kind, SourcePlan *sp)
{
	Source	   *src = &cat->src[kind];
	Source	   *o = &cat->src[SRC_ORDERS];
	Source	   *items = &cat->src[SRC_ITEMS];
	List	   *readers = NIL;
	List	   *row_readers = NIL;	/* orders: readers less those of items only */
	bool		split = kind == SRC_ORDERS && items->present;
	bool		items_indexed;
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	ListCell   *lc;

	kept_retire(sp->customers_plan);
	kept_retire(sp->items_plan);
	list_free(sp->ids);
	list_free(sp->ids_without_items);
	if (sp->column)
		pfree(sp->column);
	if (sp->customers_sql)
		pfree(sp->customers_sql);
	if (sp->items_sql)
		pfree(sp->items_sql);
	memset(sp, 0, sizeof(SourcePlan));
	sp->generation = -1;		/* until built: an error below leaves it unbuilt */
	MemoryContextSwitchTo(old);

	/* RFM scores follow orders, and so do the segments that read them */
	foreach(lc, cat->segments)
	{
		SegmentEntry *seg = lfirst(lc);

		if (seg->mode == MODE_INCREMENTAL &&
			(seg->reads_source[kind] || (kind == SRC_ORDERS && seg->reads_rfm)))
		{
			readers = lappend_int(readers, seg->id);
			if (split && reads_order_rows(cat, seg))
				row_readers = lappend_int(row_readers, seg->id);
		}
	}
	readers = catalog_with_dependants(cat, readers, true);
	row_readers = catalog_with_dependants(cat, row_readers, true);
	sp->rescore = kind == SRC_ORDERS && rfm_rescore_ready(cat);
	foreach(lc, readers)
		sp->ids_read_rfm |= catalog_find_segment_id(cat, lfirst_int(lc))->reads_rfm;
	/* without an index to find an order's items by, the probe would scan them all */
	items_indexed = split && column_leads_an_index(items->relid, items->order_ref);

	old = MemoryContextSwitchTo(TopMemoryContext);
	sp->ids = list_copy(readers);
	if (split && list_length(row_readers) < list_length(readers) && items_indexed)
	{
		sp->ids_without_items = list_copy(row_readers);
		sp->items_sql =
			psprintf("SELECT 1 FROM %s i WHERE i.%s = ANY ($1::%s[]) LIMIT 1",
					 items->qualname, quote_identifier(items->order_ref),
					 format_type_be_qualified(get_atttype(items->relid,
														  get_attnum(items->relid, items->order_ref))));
	}
	switch (kind)
	{
		case SRC_CUSTOMERS:
			sp->column = pstrdup(src->key);
			break;
		case SRC_ORDERS:
		case SRC_EVENTS:
			sp->column = pstrdup(src->customer);
			break;
		case SRC_ITEMS:
			sp->column = pstrdup(src->order_ref);
			sp->indirect = true;
			sp->customers_sql = o->present ?
				psprintf("SELECT DISTINCT (o.%s)::pg_catalog.text FROM %s o WHERE o.%s = ANY ($1::%s[])",
						 quote_identifier(o->customer), o->qualname, quote_identifier(o->key),
						 format_type_be_qualified(get_atttype(o->relid, get_attnum(o->relid, o->key)))) :
				NULL;
			break;
		case SRC_PRODUCTS:
			sp->column = pstrdup(src->key);
			sp->indirect = true;
			sp->customers_sql = (o->present && items->present && items->product_ref) ?
				psprintf("SELECT DISTINCT (o.%s)::pg_catalog.text FROM %s o JOIN %s i ON i.%s = o.%s"
						 " WHERE i.%s = ANY ($1::%s[])",
						 quote_identifier(o->customer), o->qualname, items->qualname,
						 quote_identifier(items->order_ref), quote_identifier(o->key),
						 quote_identifier(items->product_ref),
						 format_type_be_qualified(get_atttype(items->relid,
															  get_attnum(items->relid, items->product_ref)))) :
				NULL;
			break;
		case SRC_COUNT:
			break;
	}
	MemoryContextSwitchTo(old);
	sp->generation = cat->generation;
}

static SourcePlan *
source_plan(Catalog *cat, SourceKind kind)
{
	if (!plans_initialized)
	{
		for (int k = 0; k < SRC_COUNT; k++)
			plans[k].generation = -1;
		plans_initialized = true;
	}
	if (plans[kind].generation != cat->generation)
		build_source_plan(cat, kind, &plans[kind]);
	return &plans[kind];
}

static int
compare_cstrings(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Adds the text form of `column` of every row of a transition table. */
static void
collect_values(Relation rel, Tuplestorestate *rows, const char *column, List **values)
{
	TupleDesc	desc = RelationGetDescr(rel);
	AttrNumber	attno = get_attnum(RelationGetRelid(rel), column);
	TupleTableSlot *slot;
	Oid			output;
	bool		varlena;
	int			pointer;

	if (rows == NULL)
		return;
	if (attno == InvalidAttrNumber)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_COLUMN),
				errmsg("column \"%s\" of %s does not exist", column, RelationGetRelationName(rel)),
				errdetail("segment tracks this table with that column."),
				errhint("Track the table again with the column's new name."));
	getTypeOutputInfo(TupleDescAttr(desc, attno - 1)->atttypid, &output, &varlena);
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	/* a read pointer of our own: other triggers may read the same rows */
	pointer = tuplestore_alloc_read_pointer(rows, 0);
	tuplestore_select_read_pointer(rows, pointer);
	tuplestore_rescan(rows);
	while (tuplestore_gettupleslot(rows, true, false, slot))
	{
		bool		isnull;
		Datum		value = slot_getattr(slot, attno, &isnull);

		CHECK_FOR_INTERRUPTS();
		if (!isnull)
			*values = lappend(*values, OidOutputFunctionCall(output, value));
	}
	ExecDropSingleTupleTableSlot(slot);
}

/* The distinct values as a text[], sorted; NULL when there are none. */
static ArrayType *
distinct_text_array(List *values)
{
	int			n = list_length(values);
	char	  **sorted;
	Datum	   *elems;
	int			kept = 0;

	if (n == 0)
		return NULL;
	sorted = palloc(sizeof(char *) * n);
	for (int i = 0; i < n; i++)
		sorted[i] = list_nth(values, i);
	qsort(sorted, n, sizeof(char *), compare_cstrings);
	elems = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
		if (i == 0 || strcmp(sorted[i], sorted[i - 1]) != 0)
			elems[kept++] = CStringGetTextDatum(sorted[i]);
	return construct_array(elems, kept, TEXTOID, -1, false, TYPALIGN_INT);
}

/* The customers whose rows the statement inserted, changed or deleted. */
static ArrayType *
touched_customers(TriggerData *trig, SourcePlan *sp)
{
	List	   *values = NIL;
	ArrayType  *keys;
	static Oid	types[1] = {TEXTARRAYOID};
	Datum		arg[1];
	List	   *customers = NIL;

	collect_values(trig->tg_relation, trig->tg_newtable, sp->column, &values);
	collect_values(trig->tg_relation, trig->tg_oldtable, sp->column, &values);
	keys = distinct_text_array(values);
	if (keys == NULL || !sp->indirect)
		return keys;
	if (sp->customers_sql == NULL)
		return NULL;			/* no orders tracked: nothing names a customer */

	/* order items and products: the customers of their orders */
	arg[0] = PointerGetDatum(keys);
	kept_run(&sp->customers_plan, sp->customers_sql, 1, types, arg, NULL, false, SPI_OK_SELECT);
	for (uint64 row = 0; row < SPI_processed; row++)
	{
		char	   *key = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, 1);

		if (key)
			customers = lappend(customers, key);
	}
	return distinct_text_array(customers);
}

/*
 * Whether an item names one of the orders the INSERT added.  If none does,
 * the insert cannot change what items add up to: an order's items come
 * after it, and their own statement maintains the segments that read them.
 */
static bool
inserted_orders_have_items(TriggerData *trig, Catalog *cat, SourcePlan *sp)
{
	static Oid	types[1] = {TEXTARRAYOID};
	List	   *values = NIL;
	ArrayType  *orders;
	Datum		arg[1];

	collect_values(trig->tg_relation, trig->tg_newtable, cat->src[SRC_ORDERS].key, &values);
	if ((orders = distinct_text_array(values)) == NULL)
		return false;
	arg[0] = PointerGetDatum(orders);
	kept_run(&sp->items_plan, sp->items_sql, 1, types, arg, NULL, false, SPI_OK_SELECT);
	return SPI_processed > 0;
}

/*
 * Runs a kept statement of one text[] or int4[] argument; a serialization
 * failure (another transaction got there after this one's snapshot) is said
 * with the message and detail given, as the reason to retry.
 */
static void
run_or_retry(SPIPlanPtr *plan, const char *sql, Oid type, Datum arg, int expect,
			 const char *message, const char *detail)
{
	MemoryContext context = CurrentMemoryContext;

	PG_TRY();
	{
		kept_run(plan, sql, 1, &type, &arg, NULL, false, expect);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(context);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_T_R_SERIALIZATION_FAILURE)
			PG_RE_THROW();
		FlushErrorState();
		ereport(ERROR,
				errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				errmsg("%s", message),
				errdetail("%s", detail),
				errhint("Retry the transaction."));
	}
	PG_END_TRY();
}

/*
 * The earliest time stamped on the rows an INSERT added to orders or events
 * (DT_NOEND when none has one, since such rows never count), or DT_NOBEGIN
 * when it cannot be told: another statement, or another table, whose rows
 * take their time from their orders.
 */
static TimestampTz
earliest_inserted(TriggerData *trig, Catalog *cat, SourceKind kind)
{
	Relation	rel = trig->tg_relation;
	TimestampTz earliest = DT_NOEND;
	AttrNumber	attno;
	Oid			type;
	TupleTableSlot *slot;
	int			pointer;

	if ((kind != SRC_ORDERS && kind != SRC_EVENTS) || trig->tg_oldtable || !trig->tg_newtable)
		return DT_NOBEGIN;
	attno = get_attnum(RelationGetRelid(rel), cat->src[kind].time);
	if (attno == InvalidAttrNumber)
		return DT_NOBEGIN;
	type = getBaseType(TupleDescAttr(RelationGetDescr(rel), attno - 1)->atttypid);
	if (type != TIMESTAMPTZOID && type != TIMESTAMPOID && type != DATEOID)
		return DT_NOBEGIN;
	slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsMinimalTuple);
	pointer = tuplestore_alloc_read_pointer(trig->tg_newtable, 0);
	tuplestore_select_read_pointer(trig->tg_newtable, pointer);
	tuplestore_rescan(trig->tg_newtable);
	while (tuplestore_gettupleslot(trig->tg_newtable, true, false, slot))
	{
		bool		isnull;
		Datum		value = slot_getattr(slot, attno, &isnull);
		int			overflow = 0;
		TimestampTz t;

		CHECK_FOR_INTERRUPTS();
		if (isnull)
			continue;
		if (type == TIMESTAMPTZOID)
			t = DatumGetTimestampTz(value);
		else if (type == TIMESTAMPOID)
			t = timestamp2timestamptz_opt_overflow(DatumGetTimestamp(value), &overflow);
		else
			t = date2timestamptz_opt_overflow(DatumGetDateADT(value), &overflow);
		if (overflow < 0)
			t = DT_NOBEGIN;
		if (overflow <= 0 && t < earliest)
			earliest = t;
	}
	ExecDropSingleTupleTableSlot(slot);
	return earliest;
}

/* The statement that fired the trigger, for messages. */
static const char *
statement_name(TriggerData *trig)
{
	return psprintf("%s on %s",
					TRIGGER_FIRED_BY_INSERT(trig->tg_event) ? "INSERT" :
					TRIGGER_FIRED_BY_UPDATE(trig->tg_event) ? "UPDATE" :
					TRIGGER_FIRED_BY_DELETE(trig->tg_event) ? "DELETE" : "TRUNCATE",
					RelationGetRelationName(trig->tg_relation));
}

/*
 * Share locks on the segments, in id order, and the latest time they were
 * brought to (*known false if none was).
 */
static TimestampTz
lock_segments(TriggerData *trig, List *ids, bool *known)
{
	static SPIPlanPtr plan = NULL;
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(ids), 1));
	ListCell   *lc;
	bool		isnull = true;
	Datum		latest = 0;

	foreach(lc, ids)
		elems[foreach_current_index(lc)] = Int32GetDatum(lfirst_int(lc));
	run_or_retry(&plan,
				 "SELECT max(s.as_of) FROM (SELECT s.as_of FROM segment.segments s"
				 " WHERE s.id = ANY ($1) ORDER BY s.id FOR SHARE) s",
				 INT4ARRAYOID,
				 PointerGetDatum(construct_array(elems, list_length(ids), INT4OID, sizeof(int32),
												 true, TYPALIGN_INT)),
				 SPI_OK_SELECT,
				 "could not maintain segments: a concurrent transaction redefined or refreshed them",
				 psprintf("%s read segments that another transaction changed after this transaction's snapshot was taken.",
						  statement_name(trig)));
	if (SPI_processed == 1)
		latest = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	*known = !isnull;
	return *known ? DatumGetTimestampTz(latest) : 0;
}

/*
 * Locks the customers' rows in segment.customer_turns, in key order; a
 * serialization failure is said in terms of the statement that caused it.
 * The rows say which transaction took the turn, for tick(); and, when their
 * orders changed, which changed them: the next segment.rfm_refresh()
 * aggregates those customers' orders rather than move their stored values.
 */
static void
take_turns(ArrayType *keys, const char *statement, bool orders_changed)
{
	static SPIPlanPtr plan = NULL;
	static SPIPlanPtr orders_plan = NULL;

	run_or_retry(orders_changed ? &orders_plan : &plan,
				 orders_changed ?
				 "INSERT INTO segment.customer_turns AS t (customer_id, orders_changed_by, turned_by)"
				 " SELECT c, pg_catalog.pg_current_xact_id(), pg_catalog.pg_current_xact_id()"
				 " FROM pg_catalog.unnest($1) c ORDER BY c"
				 " ON CONFLICT (customer_id) DO UPDATE SET turns = t.turns + 1,"
				 " orders_changed_by = excluded.orders_changed_by, turned_by = excluded.turned_by" :
				 "INSERT INTO segment.customer_turns AS t (customer_id, turned_by)"
				 " SELECT c, pg_catalog.pg_current_xact_id() FROM pg_catalog.unnest($1) c ORDER BY c"
				 " ON CONFLICT (customer_id) DO UPDATE SET turns = t.turns + 1, turned_by = excluded.turned_by",
				 TEXTARRAYOID, PointerGetDatum(keys), SPI_OK_INSERT,
				 "could not maintain segments: a concurrent transaction changed the same customers",
				 psprintf("%s touched customers that another transaction maintained after this transaction's snapshot was taken.",
						  statement));
}

/*
 * segment._take_turns(customers text[], orders_changed boolean) returns
 * void: the same, for the clock, for changes made by hand (tags, groups,
 * points) and for rescoring by hand.
 */
Datum
segment_take_turns(PG_FUNCTION_ARGS)
{
	SPI_connect();
	take_turns(PG_GETARG_ARRAYTYPE_P(0), "This statement", PG_GETARG_BOOL(1));
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * segment._maintain(kind) returns trigger: AFTER ... FOR EACH STATEMENT on
 * a tracked table, with transition tables named segment_new_rows and
 * segment_old_rows (see segment._install_triggers()).
 */
Datum
segment_maintain(PG_FUNCTION_ARGS)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;
	SourceKind	kind;
	Catalog    *cat;
	SourcePlan *sp;
	List	   *ids;
	ArrayType  *keys = NULL;
	bool		truncate;
	bool		known;
	TimestampTz latest;
	TimestampTz as_of;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_STATEMENT(trig->tg_event) ||
		!TRIGGER_FIRED_AFTER(trig->tg_event) || trig->tg_trigger->tgnargs != 1)
		elog(ERROR, "segment._maintain() must be an AFTER ... FOR EACH STATEMENT trigger with one argument");
	kind = source_kind_from_name(trig->tg_trigger->tgargs[0]);
	truncate = TRIGGER_FIRED_BY_TRUNCATE(trig->tg_event);

	SPI_connect();
	cat = catalog_current(false);
	/* until the catalog read after taking the locks is the one they were taken for */
	for (;;)
	{
		Catalog    *after;

		sp = source_plan(cat, kind);
		/* a table that is no longer tracked under this kind: nothing to do */
		if (!cat->src[kind].present || cat->src[kind].relid != RelationGetRelid(trig->tg_relation) ||
			(sp->ids == NIL && !sp->rescore && kind != SRC_ORDERS))
		{
			SPI_finish();
			return PointerGetDatum(NULL);
		}
		if (!truncate && (keys = touched_customers(trig, sp)) == NULL)
		{
			SPI_finish();
			return PointerGetDatum(NULL);
		}
		if (sp->ids == NIL && !sp->rescore)
		{
			/*
			 * Orders (the only kind left here) with nothing to maintain still
			 * note their customers: a first rfm_refresh() whose snapshot
			 * misses this transaction must not let the next one move their
			 * values.
			 */
			if (keys)
				take_turns(keys, statement_name(trig), true);
			SPI_finish();
			return PointerGetDatum(NULL);
		}
		ids = sp->ids;
		if (sp->items_sql && keys && TRIGGER_FIRED_BY_INSERT(trig->tg_event) &&
			!inserted_orders_have_items(trig, cat, sp))
			ids = sp->ids_without_items;
		latest = lock_segments(trig, ids, &known);
		if (sp->rescore)
			rfm_lock_scores();
		after = catalog_current(false);
		if (after == cat)
			break;
		cat = after;
	}

	if (keys)
		take_turns(keys, statement_name(trig), kind == SRC_ORDERS);
	/* the clock's store counts orders and events, not customers' attributes */
	if (kind != SRC_CUSTOMERS)
	{
		if (keys)
			clock_store_invalidate(keys, earliest_inserted(trig, cat, kind));
		else
			clock_store_drop();
	}
	as_of = GetCurrentTransactionStartTimestamp();
	/* the clock of a segment never goes back behind its members */
	if (known && latest > as_of)
		as_of = latest;

	/*
	 * The customers' RFM values come with their segments' evaluation, which
	 * reads their orders anyway, unless a segment reads the scores: then
	 * they are rescored first, from their orders.
	 */
	if (sp->rescore && keys && !sp->ids_read_rfm)
	{
		RfmValues	values = {0};

		engine_apply_with_rfm(cat, ids, TimestampTzGetDatum(as_of), keys, rfm_aggregates(cat),
							  &values);
		rfm_rescore_given(cat, keys, &values, TimestampTzGetDatum(as_of));
	}
	else
	{
		if (sp->rescore && keys)
			rfm_rescore_keys(cat, keys, TimestampTzGetDatum(as_of));
		else if (sp->rescore)
		{
			static SPIPlanPtr forget_plan = NULL;
			static SPIPlanPtr refresh_plan = NULL;
			static Oid	types[1] = {TIMESTAMPTZOID};
			Datum		arg[1] = {TimestampTzGetDatum(as_of)};

			/* the stored values are of orders that are gone: none is moved */
			kept_run(&forget_plan, "DELETE FROM segment.rfm_store", 0, NULL, NULL, NULL, false,
					 SPI_OK_DELETE);
			kept_run(&refresh_plan, "SELECT segment.rfm_refresh($1)", 1, types, arg, NULL, false,
					 SPI_OK_SELECT);
		}
		engine_apply(cat, ids, TimestampTzGetDatum(as_of), "data", keys);
	}
	SPI_finish();
	return PointerGetDatum(NULL);
}
