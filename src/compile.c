/*
 * compile.c: rules to SQL.
 *
 * Every behaviour verb (orders(...), bought(...), events(...)) becomes one
 * aggregate with a FILTER clause over its source table, grouped by customer.
 * Aggregates are shared by text, so all segments compiled together read
 * orders, items and events once each, whatever their number.  The rules then
 * become boolean expressions over the customer row and those aggregates.
 *
 * Names are resolved here, against the tracked tables, and every identifier
 * and literal that reaches the SQL is quoted; nothing from a rule is pasted.
 */
#include "postgres.h"

#include <math.h>

#include "access/table.h"
#include "catalog/pg_type.h"
#include "compile_internal.h"
#include "exact_units.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/varlena.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"

typedef enum ValType
{
	VT_NUM,
	VT_TEXT,
	VT_BOOL,
	VT_TIME,
	VT_RFM
} ValType;

static const char *const val_type_names[] = {"number", "text", "boolean", "date", "rfm"};

/* Where a name is looked up: the customer, or inside a verb's filter. */
typedef enum Scope
{
	SCOPE_CUSTOMER,
	SCOPE_ORDER,
	SCOPE_ITEM,
	SCOPE_EVENT
} Scope;

typedef struct Operand
{
	char	   *sql;
	ValType		type;
	bool		countlike;		/* a count: alone, it means "at least one" */
	int			days_since_of;	/* days since a row of this FeatureSource, or -1 */
	char	   *units;			/* the same amount in int8 units of 10^-scale, or NULL */
	int			scale;			/* of units */
} Operand;

const char *const feature_alias[FS_COUNT] = {"fo", "fi", "fe"};

static Operand compile_operand(Compiler *cx, const RuleNode *node, Scope scope);
static char *compile_predicate(Compiler *cx, const RuleNode *node, Scope scope);
static char *compile_leaf(Compiler *cx, const RuleNode *node, Scope scope);

static void bind_error(Compiler *cx, int location, int code, char *msg, char *hint)
			pg_attribute_noreturn();

/* An error at a place in the rule, with the rule quoted and a caret. */
static void
bind_error(Compiler *cx, int location, int code, char *msg, char *hint)
{
	ereport(ERROR,
			errcode(code),
			errmsg_internal("%s", msg),
			cx->segment ? errcontext("rule of segment \"%s\"", cx->segment) : 0,
			errdetail_internal("%s", rule_error_context(cx->text, location)),
			hint ? errhint("%s", hint) : 0);
	pg_unreachable();
}

/* ---------------------------------------------------------------------------
 * Names and types
 * ---------------------------------------------------------------------------
 */

static ValType
type_category(Oid typid, bool *ok)
{
	char		category;
	bool		preferred;

	typid = getBaseType(typid);
	*ok = true;
	if (typid == BOOLOID)
		return VT_BOOL;
	if (typid == DATEOID || typid == TIMESTAMPOID || typid == TIMESTAMPTZOID)
		return VT_TIME;
	get_type_category_preferred(typid, &category, &preferred);
	if (category == TYPCATEGORY_NUMERIC)
		return VT_NUM;
	if (category == TYPCATEGORY_STRING || category == TYPCATEGORY_ENUM)
		return VT_TEXT;
	*ok = false;
	return VT_TEXT;
}

/* The nearest of a list of names to `name`, or NULL when none is close. */
static const char *
nearest_name(const char *name, List *candidates)
{
	const char *best = NULL;
	int			best_distance = Max(2, (int) strlen(name) / 3) + 1;
	ListCell   *lc;

	foreach(lc, candidates)
	{
		const char *cand = lfirst(lc);
		int			d = varstr_levenshtein_less_equal(name, strlen(name), cand, strlen(cand),
													  1, 1, 1, best_distance, false);

		if (d < best_distance)
		{
			best = cand;
			best_distance = d;
		}
	}
	return best;
}

static List *
relation_columns(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *names = NIL;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped)
			names = lappend(names, pstrdup(NameStr(att->attname)));
	}
	table_close(rel, AccessShareLock);
	return names;
}

static char *
hint_for_name(const char *name, List *candidates, const char *what)
{
	const char *near = nearest_name(name, candidates);
	StringInfoData buf;
	ListCell   *lc;

	if (near)
		return psprintf("Did you mean \"%s\"?", near);
	initStringInfo(&buf);
	appendStringInfo(&buf, "Known %s: ", what);
	foreach(lc, candidates)
	{
		ListCell   *prev;
		bool		seen = false;

		/* an item and its product may share column names */
		for (prev = list_head(candidates); prev != lc; prev = lnext(candidates, prev))
			seen |= strcmp(lfirst(prev), lfirst(lc)) == 0;
		if (!seen)
			appendStringInfo(&buf, "%s%s", lc == list_head(candidates) ? "" : ", ",
							 (char *) lfirst(lc));
	}
	appendStringInfoChar(&buf, '.');
	return buf.data;
}

static Source *
need_source(Compiler *cx, SourceKind kind, int location, const char *verb)
{
	Source	   *src = &cx->cat->src[kind];

	if (!src->present)
		bind_error(cx, location, ERRCODE_UNDEFINED_OBJECT,
				   psprintf("%s() needs %s, which are not tracked", verb, source_kind_name(kind)),
				   psprintf("Tell segment where they are with %s().", source_track_function(kind)));
	cx->deps->sources[kind] = true;
	return src;
}

/*
 * A column of a tracked table, as a qualified SQL expression.  Returns false
 * when the table has no such column.
 */
static bool
lookup_column(Compiler *cx, Source *src, const char *alias, const RuleNode *node,
			  Operand *out)
{
	AttrNumber	attnum = get_attnum(src->relid, node->str);
	bool		ok;

	if (attnum == InvalidAttrNumber || attnum < 0)
		return false;
	out->type = type_category(get_atttype(src->relid, attnum), &ok);
	if (!ok)
		bind_error(cx, node->location, ERRCODE_DATATYPE_MISMATCH,
				   psprintf("column \"%s\" of %s has type %s, which rules cannot use",
							node->str, src->qualname,
							format_type_be(get_atttype(src->relid, attnum))),
				   pstrdup("Rules compare numbers, text, booleans and dates."));
	out->sql = psprintf("%s.%s", alias, quote_identifier(node->str));
	/* text-like columns compare as text, so enums and char(n) behave alike */
	if (out->type == VT_TEXT)
		out->sql = psprintf("(%s)::pg_catalog.text", out->sql);
	out->countlike = false;
	out->days_since_of = -1;
	return true;
}

/* ---------------------------------------------------------------------------
 * Behaviour features
 * ---------------------------------------------------------------------------
 */

/* A column's type, through domains; InvalidOid when there is no such column. */
static Oid
column_type(Oid relid, const char *column)
{
	AttrNumber	attnum = get_attnum(relid, column);

	return attnum == InvalidAttrNumber ? InvalidOid : getBaseType(get_atttype(relid, attnum));
}

static bool
integer_column(Oid relid, const char *column)
{
	Oid			type = column_type(relid, column);

	return type == INT2OID || type == INT4OID || type == INT8OID;
}

/*
 * Whether a column holds exact numbers, whose sums rows add to and take from
 * without rounding (so the clock's store can keep them).
 */
static bool
exact_column(Oid relid, const char *column)
{
	return integer_column(relid, column) || column_type(relid, column) == NUMERICOID;
}

/*
 * Registers an aggregate (deduplicated) with its FILTER condition (NULL for
 * none) and returns its column reference.  Rows stamped after as_of are left
 * out, so any behaviour depends on the clock: a row dated ahead counts once
 * its time has come.  The conditions are kept too: when every aggregate of a
 * source has one, only rows that meet one of them need aggregating.
 */
static char *
feature(Compiler *cx, FeatureSource fs, const char *call, const char *filter, int store_width)
{
	char	   *aggregate = filter ? psprintf("%s FILTER (WHERE %s)", call, filter) : pstrdup(call);
	int			n = 0;
	ListCell   *lc;

	cx->deps->uses_clock = true;
	cx->leaf_features++;
	if (cx->flip_layout)
		return store_element_sql(cx, fs, aggregate, store_width);

	foreach(lc, cx->features[fs])
	{
		if (strcmp(lfirst(lc), aggregate) == 0)
			return psprintf("%s.f%d", feature_alias[fs], n);
		n++;
	}
	cx->features[fs] = lappend(cx->features[fs], aggregate);
	cx->calls[fs] = lappend(cx->calls[fs], pstrdup(call));
	cx->filters[fs] = lappend(cx->filters[fs], filter ? pstrdup(filter) : NULL);
	cx->store_width[fs] = lappend_int(cx->store_width[fs], store_width);
	if (filter == NULL)
		cx->unfiltered[fs] = true;
	else
	{
		bool		known = false;

		foreach(lc, cx->row_filters[fs])
			known |= strcmp(lfirst(lc), filter) == 0;
		if (!known)
			cx->row_filters[fs] = lappend(cx->row_filters[fs], pstrdup(filter));
	}
	return psprintf("%s.f%d", feature_alias[fs], n);
}

/*
 * An aggregate (sum, min or max) of an amount column `expr`, times the
 * integer `times` unless NULL: over int8 units where the column allows
 * (exact_units.c), converted back to numeric once per customer.  `as`, if
 * given, gets the units themselves, for comparisons with numbers.
 */
static char *
amount_feature(Compiler *cx, FeatureSource fs, const char *aggregate, Oid relid,
			   const char *column, const char *expr, const char *times, const char *filter,
			   int store_width, Operand *as)
{
	int			scale = column ? exact_units_scale(relid, column) : -1;
	char	   *units;

	if (scale < 0)
		return feature(cx, fs, times ? psprintf("%s(%s * %s)", aggregate, expr, times)
					   : psprintf("%s(%s)", aggregate, expr), filter, store_width);
	if (strcmp(aggregate, "sum") == 0)
		aggregate = UNITS_SUM_AGGREGATE;
	units = feature(cx, fs, psprintf("%s(%s)", aggregate, exact_units_sql(expr, scale, times)),
					filter, store_width);
	if (as)
	{
		as->units = units;
		as->scale = scale;
	}
	return from_units_sql(units, scale);
}

/* A sum's operand that reads 0, not NULL, for a customer with no rows. */
static void
zero_if_none(Operand *r)
{
	r->sql = psprintf("COALESCE(%s, 0)", r->sql);
	if (r->units)
		r->units = psprintf("COALESCE(%s, 0)", r->units);
}

/*
 * An amount in units compared with a number, in units: the number scaled
 * once here, instead of a numeric product and comparison for every
 * customer evaluated.  NULL unless the number is a whole number of units:
 * a threshold with more decimals than the column keeps numeric arithmetic.
 */
static char *
units_number(const Operand *amount, const RuleNode *number)
{
	char	   *units;

	if (amount->units == NULL || number->kind != RN_NUMBER)
		return NULL;
	units = exact_units_literal(number->str, amount->scale);
	return units ? psprintf("(%s)::pg_catalog.int8", units) : NULL;
}

static const char *
interval_sql(int64 n, RuleUnit unit)
{
	return quote_literal_cstr(psprintf(INT64_FORMAT " %s", n, rule_unit_name(unit, true)));
}

static void
add_edge(Compiler *cx, FeatureSource fs, const char *interval)
{
	ListCell   *lc;

	foreach(lc, cx->edges[fs])
		if (strcmp(lfirst(lc), interval) == 0)
			return;
	cx->edges[fs] = lappend(cx->edges[fs], pstrdup(interval));
}

/*
 * A window's bound: a time less an interval (SQL).  A scalar subquery, so it
 * is computed once per statement rather than once per row (timestamptz
 * minus interval is not constant).
 */
char *
window_bound(const char *time, const char *interval)
{
	return psprintf("(SELECT %s - %s::pg_catalog.interval)", time, interval);
}

/*
 * " WHERE" rows whose time lies where some window's edge moved between $2
 * and $1: since the older time (edge 0: rows stamped since, now past), or
 * that long before it for each interval at which a window ends.
 */
void
append_edge_band(StringInfo buf, const char *time_col, List *edges)
{
	ListCell   *lc;

	appendStringInfo(buf, " WHERE ((%s > LEAST($1, $2) AND %s <= GREATEST($1, $2))", time_col, time_col);
	foreach(lc, edges)
		appendStringInfo(buf, " OR (%s > %s AND %s <= %s)",
						 time_col, window_bound("LEAST($1, $2)", lfirst(lc)),
						 time_col, window_bound("GREATEST($1, $2)", lfirst(lc)));
	appendStringInfoChar(buf, ')');
}

/* The window as a condition on a time column, or NULL for all time. */
static char *
window_sql(Compiler *cx, FeatureSource fs, const RuleNode *win, const char *time_col)
{
	if (win == NULL)
		return NULL;
	/* PostgreSQL's intervals hold about 178 million years; keep far below */
	if (win->wkind != WIN_DATES && win->n1 > 100000)
		bind_error(cx, win->location, ERRCODE_PROGRAM_LIMIT_EXCEEDED,
				   psprintf("a window of " INT64_FORMAT " %s is longer than rules allow",
							win->n1, rule_unit_name(win->unit, true)),
				   pstrdup("Windows go back at most 100000 units; leave the window out for all time."));
	switch (win->wkind)
	{
		case WIN_LAST:
			cx->deps->uses_clock = true;
			add_edge(cx, fs, interval_sql(win->n1, win->unit));
			return psprintf("%s > %s", time_col,
							window_bound(cx->as_of, interval_sql(win->n1, win->unit)));
		case WIN_AGO:
			cx->deps->uses_clock = true;
			add_edge(cx, fs, interval_sql(win->n1, win->unit));
			add_edge(cx, fs, interval_sql(win->n2, win->unit));
			return psprintf("%s > %s AND %s <= %s",
							time_col, window_bound(cx->as_of, interval_sql(win->n1, win->unit)),
							time_col, window_bound(cx->as_of, interval_sql(win->n2, win->unit)));
		case WIN_DATES:
			return psprintf("%s >= %s::pg_catalog.date AND %s < %s::pg_catalog.date + 1",
							time_col, quote_literal_cstr(win->str),
							time_col, quote_literal_cstr(win->field));
	}
	return NULL;
}

/* Keeps a feature's row condition (NULL: it counts every row in its window). */
static void
note_row_condition(Compiler *cx, FeatureSource fs, const char *condition)
{
	ListCell   *lc;

	if (condition == NULL)
	{
		cx->unconditioned[fs] = true;
		return;
	}
	foreach(lc, cx->row_conditions[fs])
		if (strcmp(lfirst(lc), condition) == 0)
			return;
	cx->row_conditions[fs] = lappend(cx->row_conditions[fs], pstrdup(condition));
}

/* Whether every feature of the source has a row condition. */
static bool
rows_conditioned(Compiler *cx, FeatureSource fs)
{
	return !cx->unconditioned[fs] && cx->row_conditions[fs] != NIL;
}

/*
 * " AND" rows that meet some feature's row condition, when every feature of
 * the source has one: a row near a window's edge that meets none moves no
 * feature, and a tick need not read or revisit it.
 */
void
append_row_conditions(Compiler *cx, StringInfo buf, FeatureSource fs)
{
	ListCell   *lc;

	if (!rows_conditioned(cx, fs))
		return;
	appendStringInfoString(buf, " AND (");
	foreach(lc, cx->row_conditions[fs])
		appendStringInfo(buf, "%s(%s)", foreach_current_index(lc) ? " OR " : "", (char *) lfirst(lc));
	appendStringInfoChar(buf, ')');
}

/*
 * The FILTER condition of a behaviour verb: its window, its event kinds and
 * its filters, ANDed.  Returns NULL when there is none.  The kinds and
 * filters alone are kept as the feature's row condition.
 */
static char *
filter_clause(Compiler *cx, FeatureSource fs, const RuleNode *call, Scope scope,
			  const char *time_col, const char *kind_col, const char **sum_column)
{
	StringInfoData buf;
	List	   *conds = NIL;
	StringInfoData kinds;
	const RuleNode *window = NULL;
	char	   *within;
	ListCell   *lc;

	initStringInfo(&kinds);
	foreach(lc, call->args)
	{
		const RuleNode *arg = lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (arg->kind == RN_WINDOW)
			window = arg;
		else if (arg->kind == RN_STRING && kind_col)
			appendStringInfo(&kinds, "%s%s", kinds.len ? ", " : "", quote_literal_cstr(arg->str));
		else if (arg->kind == RN_NAME && sum_column && *sum_column == NULL)
		{
			Operand		col;

			if (!lookup_column(cx, &cx->cat->src[SRC_EVENTS], "ev", arg, &col))
				bind_error(cx, arg->location, ERRCODE_UNDEFINED_COLUMN,
						   psprintf("events have no column \"%s\"", arg->str),
						   hint_for_name(arg->str, relation_columns(cx->cat->src[SRC_EVENTS].relid),
										 "event columns"));
			if (col.type != VT_NUM)
				bind_error(cx, arg->location, ERRCODE_DATATYPE_MISMATCH,
						   psprintf("sum_events() sums \"%s\", which is %s, not a number",
									arg->str, val_type_names[col.type]),
						   NULL);
			*sum_column = col.sql;
		}
		else
			conds = lappend(conds, compile_predicate(cx, arg, scope));
	}

	initStringInfo(&buf);
	if (kinds.len)
		appendStringInfo(&buf, "%s = ANY (ARRAY[%s])", kind_col, kinds.data);
	foreach(lc, conds)
		appendStringInfo(&buf, "%s(%s)", buf.len ? " AND " : "", (char *) lfirst(lc));
	note_row_condition(cx, fs, buf.len ? buf.data : NULL);
	if (window == NULL)
		return buf.len ? buf.data : NULL;
	within = window_sql(cx, fs, window, time_col);
	return buf.len ? psprintf("%s AND %s", within, buf.data) : within;
}

static char *
days_since(const char *time_sql)
{
	return psprintf("pg_catalog.floor(pg_catalog.date_part('epoch', $1 - %s) / 86400)", time_sql);
}

/* Whole years from a customer's date to `at`: the value of age(). */
static char *
age_years_sql(const char *at, const char *date_sql)
{
	return psprintf("segment._age_years((%s)::pg_catalog.date, (%s)::pg_catalog.date)", at, date_sql);
}

/* Year * 12 + month of a date written YYYY-MM-DD. */
static int64
month_number(const char *date)
{
	return (int64) strtol(pnstrdup(date, 4), NULL, 10) * 12 + strtol(pnstrdup(date + 5, 2), NULL, 10);
}

/*
 * The most calendar months a verb's window can touch, or -1 for all time.
 * Generous for days and weeks (a month has at least 28 days).
 */
static int64
window_months(const RuleNode *call)
{
	ListCell   *lc;

	foreach(lc, call->args)
	{
		const RuleNode *win = lfirst(lc);

		if (win->kind != RN_WINDOW)
			continue;
		if (win->wkind == WIN_DATES)	/* YYYY-MM-DD, checked by the parser */
			return month_number(win->field) - month_number(win->str) + 1;
		switch (win->unit)
		{
			case UNIT_DAY:
				return win->n1 / 28 + 2;
			case UNIT_WEEK:
				return win->n1 * 7 / 28 + 2;
			case UNIT_MONTH:
				return win->n1 + 1;
			case UNIT_YEAR:
				return win->n1 * 12 + 1;
		}
	}
	return -1;
}

/* A row's calendar month numbered modulo `slots`, from 0. */
char *
month_slot_sql(const char *time_col, int64 slots)
{
	return psprintf("(segment._local_month(%s) %% " INT64_FORMAT " + " INT64_FORMAT ") %% " INT64_FORMAT,
					time_col, slots, slots, slots);
}

/*
 * The clock's store keeps the months of windows this short as counts per
 * month: a year's window in days (365 / 28 + 2) still fits.
 */
#define STORE_MONTH_SLOTS_MAX 16

/*
 * The number of distinct calendar months with an order.  count(DISTINCT)
 * would make the planner sort every order by customer; when the window spans
 * at most 64 months, month numbers modulo 64 are distinct within it, and a
 * bitmask ORed per customer counts them with a hash aggregate instead.  The
 * clock's store keeps, for windows of up to STORE_MONTH_SLOTS_MAX months,
 * the number of orders per month modulo the months the window can touch,
 * which rows add up to.
 */
static char *
distinct_months(Compiler *cx, const RuleNode *call, const char *time_col, const char *filter)
{
	int64		months = window_months(call);

#if PG_VERSION_NUM >= 140000
	if (months >= 0 && months <= 64)
		return psprintf("pg_catalog.bit_count((%s)::pg_catalog.bit(64))",
						feature(cx, FS_ORDERS,
								psprintf("pg_catalog.bit_or(1::pg_catalog.int8 << (%s))",
										 month_slot_sql(time_col, 64)),
								filter, months <= STORE_MONTH_SLOTS_MAX ? (int) months : 0));
#endif
	return feature(cx, FS_ORDERS,
				   psprintf("count(DISTINCT pg_catalog.date_trunc('month', %s))", time_col), filter, 0);
}

static Operand
compile_order_verb(Compiler *cx, const RuleNode *node)
{
	Source	   *o = need_source(cx, SRC_ORDERS, node->location, node->str);
	char	   *time_col = psprintf("o.%s", quote_identifier(o->time));
	char	   *amount = psprintf("o.%s", quote_identifier(o->amount));
	char	   *filter = filter_clause(cx, FS_ORDERS, node, SCOPE_ORDER, time_col, NULL, NULL);
	const char *v = node->str;
	Operand		r = {NULL, VT_NUM, false, -1};

	cx->deps->order_rows = true;

	if (strcmp(v, "orders") == 0)
	{
		r.sql = psprintf("COALESCE(%s, 0)", feature(cx, FS_ORDERS, "count(*)", filter, true));
		r.countlike = true;
	}
	else if (strcmp(v, "spent") == 0)
	{
		r.sql = amount_feature(cx, FS_ORDERS, "sum", o->relid, o->amount, amount, NULL, filter,
							   exact_column(o->relid, o->amount), &r);
		zero_if_none(&r);
	}
	else if (strcmp(v, "avg_order") == 0)
		r.sql = feature(cx, FS_ORDERS, psprintf("avg(%s)", amount), filter, false);
	else if (strcmp(v, "max_order") == 0)
		r.sql = amount_feature(cx, FS_ORDERS, "max", o->relid, o->amount, amount, NULL, filter, false, &r);
	else if (strcmp(v, "min_order") == 0)
		r.sql = amount_feature(cx, FS_ORDERS, "min", o->relid, o->amount, amount, NULL, filter, false, &r);
	else if (strcmp(v, "order_months") == 0)
		r.sql = psprintf("COALESCE(%s, 0)",
						 distinct_months(cx, node, time_col, filter));
	else if (strcmp(v, "days_since_last_order") == 0)
	{
		cx->deps->uses_clock = true;
		r.days_since_of = FS_ORDERS;
		r.sql = days_since(feature(cx, FS_ORDERS, psprintf("max(%s)", time_col), filter, false));
	}
	else if (strcmp(v, "first_order") == 0 || strcmp(v, "last_order") == 0)
	{
		r.type = VT_TIME;
		r.sql = feature(cx, FS_ORDERS, psprintf("%s(%s)", v[0] == 'f' ? "min" : "max",
												time_col), filter, false);
	}
	else
		elog(ERROR, "unexpected order verb \"%s\"", v);
	return r;
}

static Operand
compile_item_verb(Compiler *cx, const RuleNode *node)
{
	Source	   *items = need_source(cx, SRC_ITEMS, node->location, node->str);
	Source	   *o = need_source(cx, SRC_ORDERS, node->location, node->str);
	char	   *time_col = psprintf("o.%s", quote_identifier(o->time));
	char	   *filter = filter_clause(cx, FS_ITEMS, node, SCOPE_ITEM, time_col, NULL, NULL);
	char	   *qty = items->quantity ? psprintf("i.%s", quote_identifier(items->quantity)) : NULL;
	Operand		r = {NULL, VT_NUM, false, -1};

	if (strcmp(node->str, "bought") == 0)
	{
		r.countlike = true;
		r.sql = psprintf("COALESCE(%s, 0)",
						 feature(cx, FS_ITEMS, qty ? psprintf("sum(%s)", qty) : "count(*)", filter,
								 qty == NULL || exact_column(items->relid, items->quantity)));
	}
	else if (strcmp(node->str, "spent_on") == 0)
	{
		char	   *price;
		bool		exact;

		if (items->price == NULL)
			bind_error(cx, node->location, ERRCODE_UNDEFINED_COLUMN,
					   pstrdup("spent_on() needs the price of order items, which is not tracked"),
					   pstrdup("Pass price_column to segment.track_order_items()."));
		price = psprintf("i.%s", quote_identifier(items->price));
		exact = exact_column(items->relid, items->price) &&
			(qty == NULL || exact_column(items->relid, items->quantity));

		/* units times a fractional quantity would not be whole */
		if (qty && !integer_column(items->relid, items->quantity))
			r.sql = feature(cx, FS_ITEMS, psprintf("sum(%s * %s)", price, qty), filter, exact);
		else
			r.sql = amount_feature(cx, FS_ITEMS, "sum", items->relid, items->price, price, qty,
								   filter, exact, &r);
		zero_if_none(&r);
	}
	else
		elog(ERROR, "unexpected item verb \"%s\"", node->str);
	return r;
}

static Operand
compile_event_verb(Compiler *cx, const RuleNode *node)
{
	Source	   *ev = need_source(cx, SRC_EVENTS, node->location, node->str);
	char	   *time_col = psprintf("ev.%s", quote_identifier(ev->time));
	char	   *kind_col = psprintf("(ev.%s)::pg_catalog.text", quote_identifier(ev->kind));
	const char *sum_column = NULL;
	bool		is_sum = strcmp(node->str, "sum_events") == 0;
	char	   *filter = filter_clause(cx, FS_EVENTS, node, SCOPE_EVENT, time_col, kind_col,
									   is_sum ? &sum_column : NULL);
	Operand		r = {NULL, VT_NUM, false, -1};
	const char *summed = NULL;
	ListCell   *lc;

	/* the summed column is the verb's first name */
	foreach(lc, node->args)
		if (is_sum && ((RuleNode *) lfirst(lc))->kind == RN_NAME)
		{
			summed = ((RuleNode *) lfirst(lc))->str;
			break;
		}

	if (strcmp(node->str, "events") == 0)
	{
		r.countlike = true;
		r.sql = psprintf("COALESCE(%s, 0)", feature(cx, FS_EVENTS, "count(*)", filter, true));
	}
	else if (is_sum)
	{
		r.sql = amount_feature(cx, FS_EVENTS, "sum", ev->relid, summed, sum_column, NULL,
							   filter, summed && exact_column(ev->relid, summed), &r);
		zero_if_none(&r);
	}
	else if (strcmp(node->str, "days_since_last_event") == 0)
	{
		cx->deps->uses_clock = true;
		r.days_since_of = FS_EVENTS;
		r.sql = days_since(feature(cx, FS_EVENTS, psprintf("max(%s)", time_col), filter, false));
	}
	else
		elog(ERROR, "unexpected event verb \"%s\"", node->str);
	return r;
}

/* ---------------------------------------------------------------------------
 * Names, membership verbs and scalar verbs
 * ---------------------------------------------------------------------------
 */

static const char *const customer_builtins[] = {
	"days_since_last_order", "first_order", "last_order", "days_since_last_event",
	"score", "rfm", "rfm_segment", NULL
};

/*
 * RFM scores, as stored by segment.rfm_refresh(): rfm (the score), rfm.r,
 * rfm.f, rfm.m (its parts) and rfm_segment (its label).
 */
static Operand
compile_rfm(Compiler *cx, const RuleNode *node)
{
	Operand		r = {NULL, VT_NUM, false, -1};

	cx->need_rfm = true;
	cx->deps->uses_rfm = true;
	if (node->field == NULL && strcmp(node->str, "rfm") == 0)
	{
		r.type = VT_RFM;
		r.sql = "fr.score";
	}
	else if (node->field == NULL)
	{
		r.type = VT_TEXT;
		r.sql = "fr.label";
	}
	else if (strcmp(node->str, "rfm") == 0 &&
			 (strcmp(node->field, "r") == 0 || strcmp(node->field, "f") == 0 ||
			  strcmp(node->field, "m") == 0))
		r.sql = psprintf("segment.rfm_%s(fr.score)", node->field);
	else
		bind_error(cx, node->location, ERRCODE_UNDEFINED_COLUMN,
				   psprintf("unknown name \"%s.%s\" in rule", node->str, node->field),
				   pstrdup("Only rfm.r, rfm.f and rfm.m are written with a dot."));
	return r;
}

static Operand
compile_name(Compiler *cx, const RuleNode *node, Scope scope)
{
	Operand		r = {NULL, VT_NUM, false, -1};
	Source	   *src;
	const char *alias;
	const char *what;

	if (node->field != NULL)
	{
		cx->leaf_others++;
		return compile_rfm(cx, node);
	}

	if (scope == SCOPE_CUSTOMER)
	{
		const RuleVerb *verb = rule_find_verb(node->str);

		/* a bare-capable verb written without parentheses */
		if (verb && verb->bare)
		{
			RuleNode	call = *node;

			call.kind = RN_CALL;
			call.args = NIL;
			return compile_operand(cx, &call, scope);
		}
		/* attributes, points, RFM: not in the clock's store */
		cx->leaf_others++;
		if (strcmp(node->str, "score") == 0)
		{
			cx->need_points = true;
			cx->deps->uses_points = true;
			cx->deps->uses_clock = true;	/* points expire */
			r.sql = "COALESCE(fp.score, 0)";
			return r;
		}
		if (strcmp(node->str, "rfm") == 0 || strcmp(node->str, "rfm_segment") == 0)
			return compile_rfm(cx, node);
		src = need_source(cx, SRC_CUSTOMERS, node->location, "a customer attribute");
		alias = "c";
		what = "customer attributes";
	}
	else if (scope == SCOPE_ORDER)
	{
		src = &cx->cat->src[SRC_ORDERS];
		alias = "o";
		what = "order columns";
	}
	else if (scope == SCOPE_EVENT)
	{
		src = &cx->cat->src[SRC_EVENTS];
		alias = "ev";
		what = "event columns";
	}
	else
	{
		/* item filters: the item's own columns first, then its product's */
		Source	   *products = &cx->cat->src[SRC_PRODUCTS];

		if (lookup_column(cx, &cx->cat->src[SRC_ITEMS], "i", node, &r))
			return r;
		if (products->present && lookup_column(cx, products, "p", node, &r))
		{
			cx->deps->sources[SRC_PRODUCTS] = true;
			return r;
		}
		{
			List	   *cands = relation_columns(cx->cat->src[SRC_ITEMS].relid);

			if (products->present)
				cands = list_concat(cands, relation_columns(products->relid));
			bind_error(cx, node->location, ERRCODE_UNDEFINED_COLUMN,
					   psprintf("order items%s have no column \"%s\"",
								products->present ? " and products" : "", node->str),
					   hint_for_name(node->str, cands, "item and product columns"));
		}
	}

	if (!lookup_column(cx, src, alias, node, &r))
	{
		List	   *cands = relation_columns(src->relid);

		if (scope == SCOPE_CUSTOMER)
			for (int i = 0; customer_builtins[i]; i++)
				cands = lappend(cands, (char *) customer_builtins[i]);
		bind_error(cx, node->location, ERRCODE_UNDEFINED_COLUMN,
				   scope == SCOPE_CUSTOMER ?
				   psprintf("unknown attribute \"%s\" in rule", node->str) :
				   psprintf("%s has no column \"%s\"", src->qualname, node->str),
				   hint_for_name(node->str, cands, what));
	}
	return r;
}

static SegmentEntry *
find_segment_or_error(Compiler *cx, const RuleNode *arg)
{
	SegmentEntry *seg = catalog_find_segment(cx->cat, arg->str);

	if (cx->segment && strcmp(arg->str, cx->segment) == 0)
		bind_error(cx, arg->location, ERRCODE_INVALID_RECURSION,
				   psprintf("segment \"%s\" cannot contain itself", arg->str), NULL);
	if (seg == NULL)
	{
		List	   *names = NIL;
		ListCell   *lc;

		foreach(lc, cx->cat->segments)
			names = lappend(names, ((SegmentEntry *) lfirst(lc))->name);
		bind_error(cx, arg->location, ERRCODE_UNDEFINED_OBJECT,
				   psprintf("unknown segment \"%s\" in rule", arg->str),
				   names ? hint_for_name(arg->str, names, "segments")
				   : pstrdup("No segments are defined yet; define that one first."));
	}
	return seg;
}

/*
 * in_segment(), tagged() and in_group() read one column each of a join that
 * groups the looked-up rows by customer: a full refresh then reads each
 * table once, where a lookup per customer and rule cost a million index
 * probes at scale 1; for a few customers the join reads them by index.  A
 * segment evaluated in the same pass is read as its predicate instead: what
 * it is about to store, a member being a customer for whom it is true (not
 * null: NOT in_segment('x') is true for a customer x knows nothing about).
 */
static char *
membership_sql(Compiler *cx, int32 segment_id)
{
	ListCell   *id;
	ListCell   *sql;

	forboth(id, cx->inline_ids, sql, cx->inline_sql)
		if (lfirst_int(id) == segment_id)
			return psprintf("((%s) IS TRUE)", (char *) lfirst(sql));
	cx->member_of = list_append_unique_int(cx->member_of, segment_id);
	return psprintf("COALESCE(fm.s%d, false)", segment_id);
}

/* The column of fg or ft that holds a group or tag, numbered by first use. */
static int
name_column(List **names, const char *name)
{
	ListCell   *lc;

	foreach(lc, *names)
		if (strcmp(lfirst(lc), name) == 0)
			return foreach_current_index(lc);
	*names = lappend(*names, pstrdup(name));
	return list_length(*names) - 1;
}

static Operand
compile_membership_verb(Compiler *cx, const RuleNode *node)
{
	const RuleNode *arg = linitial(node->args);
	Operand		r = {NULL, VT_BOOL, false, -1};

	if (strcmp(node->str, "in_segment") == 0)
	{
		SegmentEntry *seg = find_segment_or_error(cx, arg);

		cx->deps->segments = lappend(cx->deps->segments, seg->name);
		r.sql = membership_sql(cx, seg->id);
	}
	else if (strcmp(node->str, "in_group") == 0)
	{
		ListCell   *lc;
		bool		found = false;

		foreach(lc, cx->cat->groups)
			found |= strcmp(lfirst(lc), arg->str) == 0;
		if (!found)
			bind_error(cx, arg->location, ERRCODE_UNDEFINED_OBJECT,
					   psprintf("unknown group \"%s\" in rule", arg->str),
					   cx->cat->groups ? hint_for_name(arg->str, cx->cat->groups, "groups")
					   : psprintf("Create it with segment.create_group(%s).",
								  quote_literal_cstr(arg->str)));
		cx->deps->groups = lappend(cx->deps->groups, arg->str);
		r.sql = psprintf("COALESCE(fg.g%d, false)", name_column(&cx->groups, arg->str));
	}
	else
	{
		/* tagged(): set by hand, or kept by a segment on its members */
		StringInfoData buf;
		ListCell   *lc;

		initStringInfo(&buf);
		appendStringInfo(&buf, "(COALESCE(ft.t%d, false)", name_column(&cx->tags, arg->str));
		foreach(lc, cx->cat->segments)
		{
			SegmentEntry *seg = lfirst(lc);

			if (seg->tag == NULL || strcmp(seg->tag, arg->str) != 0)
				continue;
			if (cx->segment && strcmp(seg->name, cx->segment) == 0)
				bind_error(cx, arg->location, ERRCODE_INVALID_RECURSION,
						   psprintf("segment \"%s\" keeps tag \"%s\" on its members, so its rule cannot test it",
									seg->name, arg->str), NULL);
			appendStringInfo(&buf, " OR %s", membership_sql(cx, seg->id));
		}
		appendStringInfoChar(&buf, ')');
		cx->deps->tags = lappend(cx->deps->tags, arg->str);
		r.sql = buf.data;
	}
	return r;
}

static Operand
expect_type(Compiler *cx, const RuleNode *node, Operand op, ValType want, const char *role)
{
	if (op.type != want)
		bind_error(cx, node->location, ERRCODE_DATATYPE_MISMATCH,
				   psprintf("%s must be %s, not %s", role, val_type_names[want],
							val_type_names[op.type]),
				   NULL);
	return op;
}

static Operand
compile_scalar_verb(Compiler *cx, const RuleNode *node, Scope scope)
{
	Operand		r = {NULL, VT_NUM, false, -1};

	if (strcmp(node->str, "age") == 0)
	{
		Operand		col;

		if (scope != SCOPE_CUSTOMER)
			bind_error(cx, node->location, ERRCODE_SYNTAX_ERROR,
					   pstrdup("age() applies to customer attributes only"), NULL);
		col = expect_type(cx, linitial(node->args),
						  compile_name(cx, linitial(node->args), scope), VT_TIME, "the argument of age()");
		cx->deps->uses_clock = true;
		cx->age_columns = lappend(cx->age_columns, col.sql);
		r.sql = age_years_sql("$1", col.sql);
	}
	else if (strcmp(node->str, "hour") == 0)
	{
		Operand		col;

		if (scope == SCOPE_CUSTOMER)
			bind_error(cx, node->location, ERRCODE_SYNTAX_ERROR,
					   pstrdup("hour() is used inside order or event filters"),
					   pstrdup("For example: orders(LAST 90 DAYS, hour(placed_at) >= 22) >= 2."));
		col = expect_type(cx, linitial(node->args),
						  compile_name(cx, linitial(node->args), scope), VT_TIME, "the argument of hour()");
		r.sql = psprintf("segment._local_hour(%s)", col.sql);
	}
	else if (strcmp(node->str, "within_km") == 0)
	{
		Operand		lat,
					lon;

		if (scope != SCOPE_CUSTOMER)
			bind_error(cx, node->location, ERRCODE_SYNTAX_ERROR,
					   pstrdup("within_km() applies to customer attributes only"), NULL);
		lat = expect_type(cx, list_nth(node->args, 0), compile_name(cx, list_nth(node->args, 0), scope),
						  VT_NUM, "the latitude of within_km()");
		lon = expect_type(cx, list_nth(node->args, 1), compile_name(cx, list_nth(node->args, 1), scope),
						  VT_NUM, "the longitude of within_km()");
		r.type = VT_BOOL;
		r.sql = psprintf("segment.distance_km(%s, %s, %s, %s) <= %s", lat.sql, lon.sql,
						 compile_operand(cx, list_nth(node->args, 2), scope).sql,
						 compile_operand(cx, list_nth(node->args, 3), scope).sql,
						 compile_operand(cx, list_nth(node->args, 4), scope).sql);
	}
	else
		elog(ERROR, "unexpected scalar verb \"%s\"", node->str);
	return r;
}

static Operand
compile_operand(Compiler *cx, const RuleNode *node, Scope scope)
{
	Operand		r = {NULL, VT_NUM, false, -1};

	check_stack_depth();
	switch (node->kind)
	{
		case RN_NUMBER:
			r.sql = psprintf("(%s)", node->str);	/* a validated decimal */
			return r;
		case RN_STRING:
			r.type = VT_TEXT;
			r.sql = quote_literal_cstr(node->str);
			return r;
		case RN_DATE:
			r.type = VT_TIME;
			r.sql = psprintf("%s::pg_catalog.date", quote_literal_cstr(node->str));
			return r;
		case RN_BOOL:
			r.type = VT_BOOL;
			r.sql = node->bval ? "true" : "false";
			return r;
		case RN_NAME:
			return compile_name(cx, node, scope);
		case RN_CALL:
			{
				const RuleVerb *verb = rule_find_verb(node->str);

				if (verb == NULL)
					elog(ERROR, "unknown verb \"%s\" passed the parser", node->str);
				/* ages, distances, memberships: not in the clock's store */
				if (scope == SCOPE_CUSTOMER &&
					(verb->kind == VERB_SCALAR || verb->kind == VERB_MEMBERSHIP))
					cx->leaf_others++;
				if (scope != SCOPE_CUSTOMER && verb->kind != VERB_SCALAR)
					bind_error(cx, node->location, ERRCODE_SYNTAX_ERROR,
							   psprintf("%s() cannot be used inside the filter of another verb",
										node->str),
							   pstrdup("Filters test the columns of the rows the verb counts."));
				switch (verb->kind)
				{
					case VERB_ORDERS:
						return compile_order_verb(cx, node);
					case VERB_ITEMS:
						return compile_item_verb(cx, node);
					case VERB_EVENTS:
						return compile_event_verb(cx, node);
					case VERB_SCALAR:
						return compile_scalar_verb(cx, node, scope);
					case VERB_MEMBERSHIP:
						return compile_membership_verb(cx, node);
				}
			}
			break;
		default:
			r.type = VT_BOOL;
			r.sql = compile_predicate(cx, node, scope);
			return r;
	}
	elog(ERROR, "unexpected rule node %d", (int) node->kind);
	return r;
}

/*
 * An rfm score compared with a string literal: the literal is a score, such
 * as '555' or '5-5-5', checked now rather than at the next refresh.
 */
static bool
rfm_literal(Compiler *cx, const RuleNode *lit, Operand *op)
{
	Oid			typid;
	Oid			typinput;
	Oid			typioparam;
	MemoryContext context = CurrentMemoryContext;

	if (lit->kind != RN_STRING)
		return false;
	typid = LookupTypeNameOid(NULL, makeTypeNameFromNameList(list_make2(makeString("segment"),
																		 makeString("rfm"))),
							  false);
	getTypeInputInfo(typid, &typinput, &typioparam);
	/* report a bad score at its place in the rule */
	PG_TRY();
	{
		OidInputFunctionCall(typinput, lit->str, typioparam, -1);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(context);
		edata = CopyErrorData();
		FlushErrorState();
		bind_error(cx, lit->location, edata->sqlerrcode, edata->message, edata->detail);
	}
	PG_END_TRY();
	op->type = VT_RFM;
	op->sql = psprintf("%s::segment.rfm", quote_literal_cstr(lit->str));
	return true;
}

/* Two operands that are compared must be of one type. */
static void
check_comparable(Compiler *cx, const RuleNode *node, const RuleNode *a, Operand *oa,
				 const RuleNode *b, Operand *ob)
{
	if (oa->type == VT_RFM && ob->type == VT_TEXT && rfm_literal(cx, b, ob))
		return;
	if (ob->type == VT_RFM && oa->type == VT_TEXT && rfm_literal(cx, a, oa))
		return;
	if (oa->type != ob->type)
	{
		char	   *a_text = rule_deparse(a);
		char	   *b_text = rule_deparse(b);

		bind_error(cx, b->location >= 0 ? b->location : node->location,
				   ERRCODE_DATATYPE_MISMATCH,
				   psprintf("cannot compare %s (%s) with %s (%s)", a_text,
							val_type_names[oa->type], b_text, val_type_names[ob->type]),
				   oa->type == VT_TIME && ob->type == VT_TEXT ?
				   pstrdup("Write dates without quotes: 2026-01-01.") : NULL);
	}
}

static const char *const cmp_sql[] = {"=", "<>", "<", "<=", ">", ">="};

/*
 * A comparison operator for operands of a type.  The rfm type's operators
 * live in schema segment, which is not on the pinned search_path.
 */
static char *
op_sql(ValType type, RuleCmpOp op)
{
	if (type == VT_RFM)
		return psprintf("OPERATOR(segment.%s)", cmp_sql[op]);
	return (char *) cmp_sql[op];
}

/*
 * "days since the last order" compared with a number N changes truth when
 * the last order's age passes N or N + 1 days: the clock then revisits only
 * customers with a row of about that age.  Compared with anything else, it
 * could change for anyone.
 */
static void
note_days_since(Compiler *cx, Operand subject, const RuleNode *other)
{
	double		n;

	if (subject.days_since_of < 0)
		return;
	if (other->kind != RN_NUMBER)
	{
		cx->clock_unbounded = true;
		return;
	}
	n = floor(strtod(other->str, NULL));
	if (n < 0 || n > 1000000)
		return;					/* never crossed by a past row */
	add_edge(cx, subject.days_since_of, interval_sql((int64) n, UNIT_DAY));
	add_edge(cx, subject.days_since_of, interval_sql((int64) n + 1, UNIT_DAY));
}

static char *
compile_predicate(Compiler *cx, const RuleNode *node, Scope scope)
{
	StringInfoData buf;
	ListCell   *lc;
	int			features = cx->leaf_features;
	int			others = cx->leaf_others;
	char	   *leaf;

	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	switch (node->kind)
	{
		case RN_AND:
		case RN_OR:
			initStringInfo(&buf);
			foreach(lc, node->args)
				appendStringInfo(&buf, "%s(%s)", lc == list_head(node->args) ? "" :
								 node->kind == RN_AND ? " AND " : " OR ",
								 compile_predicate(cx, lfirst(lc), scope));
			return buf.data;
		case RN_NOT:
			return psprintf("NOT (%s)", compile_predicate(cx, node->left, scope));
		default:
			break;
	}
	leaf = compile_leaf(cx, node, scope);

	/*
	 * A comparison of stored features with constants is an atom: the rule
	 * is a function of its atoms and of what the clock leaves alone.
	 */
	if (scope == SCOPE_CUSTOMER && cx->leaf_features > features)
	{
		if (cx->leaf_others > others)
			cx->flip_mixed = true;
		else
			cx->atoms = lappend(cx->atoms, leaf);
	}
	return leaf;
}

/* A comparison, or an operand standing alone as a condition. */
static char *
compile_leaf(Compiler *cx, const RuleNode *node, Scope scope)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	switch (node->kind)
	{
		case RN_CMP:
			{
				Operand		l = compile_operand(cx, node->left, scope);
				Operand		r = compile_operand(cx, node->right, scope);
				char	   *units;

				check_comparable(cx, node, node->left, &l, node->right, &r);
				note_days_since(cx, l, node->right);
				note_days_since(cx, r, node->left);
				if ((units = units_number(&l, node->right)) != NULL)
					return psprintf("%s %s %s", l.units, cmp_sql[node->op], units);
				if ((units = units_number(&r, node->left)) != NULL)
					return psprintf("%s %s %s", units, cmp_sql[node->op], r.units);
				return psprintf("%s %s %s", l.sql, op_sql(l.type, node->op), r.sql);
			}
		case RN_IN:
			{
				Operand		l = compile_operand(cx, node->left, scope);

				appendStringInfo(&buf, "%s(%s %s ANY (ARRAY[", node->negated ? "NOT " : "",
								 l.sql, op_sql(l.type, CMP_EQ));
				foreach(lc, node->args)
				{
					Operand		v = compile_operand(cx, lfirst(lc), scope);

					check_comparable(cx, node, node->left, &l, lfirst(lc), &v);
					note_days_since(cx, l, lfirst(lc));
					appendStringInfo(&buf, "%s%s", lc == list_head(node->args) ? "" : ", ", v.sql);
				}
				appendStringInfoString(&buf, "]))");
				return buf.data;
			}
		case RN_BETWEEN:
			{
				Operand		l = compile_operand(cx, node->left, scope);
				Operand		lo = compile_operand(cx, node->right, scope);
				Operand		hi = compile_operand(cx, node->third, scope);
				char	   *lo_units = units_number(&l, node->right);
				char	   *hi_units = units_number(&l, node->third);

				check_comparable(cx, node, node->left, &l, node->right, &lo);
				check_comparable(cx, node, node->left, &l, node->third, &hi);
				note_days_since(cx, l, node->right);
				note_days_since(cx, l, node->third);
				if (lo.days_since_of >= 0 || hi.days_since_of >= 0)
					cx->clock_unbounded = true;
				if (lo_units && hi_units)
					return psprintf("%s(%s >= %s AND %s <= %s)", node->negated ? "NOT " : "",
									l.units, lo_units, l.units, hi_units);
				return psprintf("%s(%s %s %s AND %s %s %s)", node->negated ? "NOT " : "",
								l.sql, op_sql(l.type, CMP_GE), lo.sql,
								l.sql, op_sql(l.type, CMP_LE), hi.sql);
			}
		case RN_LIKE:
			{
				Operand		l = compile_operand(cx, node->left, scope);

				expect_type(cx, node->left, l, VT_TEXT, "the left side of LIKE");
				return psprintf("%s %s%s %s", l.sql, node->negated ? "NOT " : "",
								node->ilike ? "ILIKE" : "LIKE",
								compile_operand(cx, node->right, scope).sql);
			}
		case RN_ISNULL:
			return psprintf("%s IS %sNULL", compile_operand(cx, node->left, scope).sql,
							node->negated ? "NOT " : "");
		case RN_WINDOW:
			bind_error(cx, node->location, ERRCODE_SYNTAX_ERROR,
					   pstrdup("a time window is only allowed as an argument of a behaviour verb"),
					   NULL);
			break;
		default:
			{
				/* an operand standing alone: a boolean, or a count meaning "any" */
				Operand		op = compile_operand(cx, node, scope);

				if (op.countlike)
					return psprintf("%s > 0", op.sql);
				if (op.type != VT_BOOL)
					bind_error(cx, node->location, ERRCODE_DATATYPE_MISMATCH,
							   psprintf("%s is of type %s, not a condition", rule_deparse(node),
										val_type_names[op.type]),
							   pstrdup("Compare it with something, for example: spent(LAST 365 DAYS) >= 1000."));
				return op.sql;
			}
	}
	return NULL;
}

/* ---------------------------------------------------------------------------
 * Public entry points
 * ---------------------------------------------------------------------------
 */

Compiler *
compiler_create(Catalog *cat)
{
	Compiler   *cx = palloc0(sizeof(Compiler));

	cx->cat = cat;
	cx->as_of = "$1";
	return cx;
}

char *
compiler_add_rule(Compiler *cx, const char *segment_name, const char *rule_text,
				  RuleDeps *deps)
{
	RuleNode   *tree = rule_parse(rule_text, strlen(rule_text));

	cx->text = rule_text;
	cx->segment = segment_name;
	cx->deps = deps;
	if (!cx->cat->src[SRC_CUSTOMERS].present)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("no customers table is tracked"),
				errhint("Call segment.track_customers() first."));
	deps->sources[SRC_CUSTOMERS] = true;
	return compile_predicate(cx, tree, SCOPE_CUSTOMER);
}

/*
 * A predicate longer than this is not copied into the segments that read
 * it: in a diamond of segments reading segments, copies would double at
 * every level.  Its readers are evaluated after it instead.
 */
#define INLINE_MAX 16384

Compiler *
compile_pass(Catalog *cat, List *ordered_ids, bool all, List **segment_ids, List **predicates)
{
	return compile_pass_at(cat, ordered_ids, all, "$1", segment_ids, predicates);
}

/* The same, with windows ending at the parameter as_of rather than $1. */
Compiler *
compile_pass_at(Catalog *cat, List *ordered_ids, bool all, const char *as_of,
				List **segment_ids, List **predicates)
{
	Compiler   *cx = compiler_create(cat);
	ListCell   *lc;

	cx->as_of = as_of;

	*segment_ids = NIL;
	*predicates = NIL;
	foreach(lc, ordered_ids)
	{
		SegmentEntry *seg = catalog_find_segment_id(cat, lfirst_int(lc));
		RuleDeps	deps = {0};
		ListCell   *r;
		bool		waits = false;
		char	   *predicate;

		if (seg == NULL)
			ereport(ERROR,
					errcode(ERRCODE_UNDEFINED_OBJECT),
					errmsg("segment with id %d does not exist", lfirst_int(lc)));
		foreach(r, seg->reads)
			waits |= list_member_int(ordered_ids, lfirst_int(r)) &&
				!list_member_int(cx->inline_ids, lfirst_int(r));
		if (waits && !all)
			continue;
		predicate = compiler_add_rule(cx, seg->name, seg->rule, &deps);
		*segment_ids = lappend_int(*segment_ids, seg->id);
		*predicates = lappend(*predicates, predicate);
		if (strlen(predicate) <= INLINE_MAX)
		{
			cx->inline_ids = lappend_int(cx->inline_ids, seg->id);
			cx->inline_sql = lappend(cx->inline_sql, predicate);
		}
	}
	return cx;
}

/* The customer and time columns of a feature source's rows. */
const char *
feature_customer(Compiler *cx, FeatureSource fs)
{
	if (fs == FS_EVENTS)
		return psprintf("ev.%s", quote_identifier(cx->cat->src[SRC_EVENTS].customer));
	return psprintf("o.%s", quote_identifier(cx->cat->src[SRC_ORDERS].customer));
}

const char *
feature_time(Compiler *cx, FeatureSource fs)
{
	if (fs == FS_EVENTS)
		return psprintf("ev.%s", quote_identifier(cx->cat->src[SRC_EVENTS].time));
	return psprintf("o.%s", quote_identifier(cx->cat->src[SRC_ORDERS].time));
}

/* " FROM" the tables a feature source's aggregates read, as o, i, p or ev. */
void
append_feature_from(Compiler *cx, StringInfo buf, FeatureSource fs)
{
	Catalog    *cat = cx->cat;
	Source	   *o = &cat->src[SRC_ORDERS];

	if (fs == FS_ORDERS)
		appendStringInfo(buf, " FROM %s o", o->qualname);
	else if (fs == FS_ITEMS)
	{
		Source	   *i = &cat->src[SRC_ITEMS];
		Source	   *p = &cat->src[SRC_PRODUCTS];

		appendStringInfo(buf, " FROM %s i JOIN %s o ON o.%s = i.%s", i->qualname, o->qualname,
						 quote_identifier(o->key), quote_identifier(i->order_ref));
		if (p->present && i->product_ref)
			appendStringInfo(buf, " LEFT JOIN %s p ON p.%s = i.%s", p->qualname,
							 quote_identifier(p->key), quote_identifier(i->product_ref));
	}
	else
		appendStringInfo(buf, " FROM %s ev", cat->src[SRC_EVENTS].qualname);
}

/* The type of the customers' key, qualified, for casting keys given as text. */
const char *
customer_key_type(Compiler *cx)
{
	Source	   *c = &cx->cat->src[SRC_CUSTOMERS];

	return format_type_be_qualified(get_atttype(c->relid, get_attnum(c->relid, c->key)));
}

/*
 * The same columns read from the clock's store, where the segments' features
 * are kept as of the last tick (compile_store.c): each feature is an element
 * of its source's array in the customer's row, joined once as fst.
 */
static void
append_store_columns(Compiler *cx, StringInfo buf, FeatureSource fs)
{
	ListCell   *lc;

	appendStringInfoString(buf, "\n  CROSS JOIN LATERAL (SELECT");
	foreach(lc, cx->store_place[fs])
	{
		int			n = foreach_current_index(lc);
		int			place = lfirst_int(lc);
		int			width = list_nth_int(cx->store_width[fs], n);

		appendStringInfoString(buf, n ? ", " : " ");
		append_store_element(buf, "fst", NULL, fs, place, width);
		appendStringInfo(buf, " AS f%d", n);
	}
	appendStringInfo(buf, ") %s", feature_alias[fs]);
}

/*
 * A LEFT JOIN of one feature source's aggregates per customer.  For all
 * customers, one grouped pass over the table; when every aggregate has a
 * filter, only rows meeting one of them are grouped.  For listed customers,
 * the same with the customer keys as a filter too.  For each customer
 * (ROWS_EACH), a LATERAL aggregate over that customer's rows, read by its
 * key: the window conditions are left to the FILTERs, or a generic plan may
 * combine a time index with the key and read every recent row.
 */
static void
append_feature_join(Compiler *cx, StringInfo buf, FeatureSource fs, CustomerRows rows,
					const char *key_type)
{
	Source	   *c = &cx->cat->src[SRC_CUSTOMERS];
	const char *cust;
	int			n = 0;
	ListCell   *lc;

	if (cx->features[fs] == NIL)
		return;
	cust = feature_customer(cx, fs);
	if (cx->from_store)
	{
		append_store_columns(cx, buf, fs);
		return;
	}
	appendStringInfo(buf, "\n  LEFT JOIN %s(SELECT %s AS k", rows == ROWS_EACH ? "LATERAL " : "", cust);
	foreach(lc, cx->features[fs])
		appendStringInfo(buf, ", %s AS f%d", (char *) lfirst(lc), n++);
	append_feature_from(cx, buf, fs);
	appendStringInfo(buf, " WHERE %s <= $1", feature_time(cx, fs));
	if (rows == ROWS_EACH)
		appendStringInfo(buf, " AND %s = c.%s", cust, quote_identifier(c->key));
	else
	{
		/* rows no aggregate counts would only add work to the grouping */
		if (!cx->unfiltered[fs])
		{
			appendStringInfoString(buf, " AND (");
			foreach(lc, cx->row_filters[fs])
				appendStringInfo(buf, "%s(%s)", lc == list_head(cx->row_filters[fs]) ? "" : " OR ",
								 (char *) lfirst(lc));
			appendStringInfoChar(buf, ')');
		}
		if (rows == ROWS_LISTED)
			appendStringInfo(buf, " AND %s = ANY ($2::%s[])", cust, key_type);
	}
	appendStringInfo(buf, " GROUP BY %s) %s ON %s.k = c.%s", cust, feature_alias[fs],
					 feature_alias[fs], quote_identifier(c->key));
}

/* How a lookup of segment's own tables is narrowed to the customers at hand. */
static const char *
lookup_filter(CustomerRows rows, const char *column)
{
	switch (rows)
	{
		case ROWS_ALL:
			return "";
		case ROWS_LISTED:
			return psprintf(" AND %s = ANY ($2)", column);
		case ROWS_EACH:
			return psprintf(" AND %s = c._segment_cid", column);
	}
	return "";
}

/*
 * A LEFT JOIN of one of segment's own lookup tables, one boolean column per
 * value looked up (column `prefix`N): the customers with a row whose
 * `column` is that value.  Segment ids are named by id, tags and groups by
 * their place in the list.
 */
static void
append_lookup_join(StringInfo buf, const char *table, const char *column, List *values,
				   bool ints, char prefix, const char *alias, CustomerRows rows)
{
	StringInfoData in;
	ListCell   *lc;

	if (values == NIL)
		return;
	initStringInfo(&in);
	appendStringInfo(buf, "\n  LEFT JOIN %s(SELECT x.customer_id AS k",
					 rows == ROWS_EACH ? "LATERAL " : "");
	foreach(lc, values)
	{
		const char *value = ints ? psprintf("%d", lfirst_int(lc)) : quote_literal_cstr(lfirst(lc));

		appendStringInfo(buf, ", pg_catalog.bool_or(x.%s = %s) AS %c%d", column, value, prefix,
						 ints ? lfirst_int(lc) : foreach_current_index(lc));
		appendStringInfo(&in, "%s%s", lc == list_head(values) ? "" : ", ", value);
	}
	appendStringInfo(buf, " FROM %s x WHERE x.%s IN (%s)%s GROUP BY x.customer_id) %s"
					 " ON %s.k = c._segment_cid", table, column, in.data,
					 lookup_filter(rows, "x.customer_id"), alias, alias);
}

void
compiler_add_rfm_values(Compiler *cx, const char *in_window, const char *last,
						const char *frequency)
{
	Source	   *o = &cx->cat->src[SRC_ORDERS];
	RuleDeps	deps = {0};
	RuleDeps   *rules_deps = cx->deps;

	cx->deps = &deps;			/* not a rule's */
	cx->unconditioned[FS_ORDERS] = true;
	cx->rfm_last = psprintf("(%s)::pg_catalog.timestamptz",
							feature(cx, FS_ORDERS, last, in_window, 0));
	cx->rfm_frequency = psprintf("COALESCE(%s, 0)", feature(cx, FS_ORDERS, frequency, in_window, 0));
	cx->rfm_monetary = amount_feature(cx, FS_ORDERS, "sum", o->relid, o->amount,
									  psprintf("o.%s", quote_identifier(o->amount)), NULL,
									  in_window, 0, NULL);
	cx->deps = rules_deps;
}

char *
compiler_customer_query(Compiler *cx, List *segment_ids, List *predicates, CustomerRows rows)
{
	Source	   *c = &cx->cat->src[SRC_CUSTOMERS];
	StringInfoData buf;
	ListCell   *lc_id,
			   *lc_pred;
	const char *key_type = customer_key_type(cx);

	initStringInfo(&buf);
	appendStringInfoString(&buf, "SELECT c._segment_cid AS cid, ARRAY[");
	forboth(lc_id, segment_ids, lc_pred, predicates)
		appendStringInfo(&buf, "%sCASE WHEN %s THEN %d END",
						 lc_id == list_head(segment_ids) ? "" : ", ",
						 (char *) lfirst(lc_pred), lfirst_int(lc_id));
	appendStringInfoString(&buf, "]::pg_catalog.int4[] AS sids");
	if (cx->rfm_last)
		appendStringInfo(&buf, ", %s AS rfm_last, %s AS rfm_frequency, %s AS rfm_monetary",
						 cx->rfm_last, cx->rfm_frequency, cx->rfm_monetary);
	appendStringInfo(&buf, "\n FROM (SELECT c.*, (c.%s)::pg_catalog.text AS _segment_cid FROM %s c",
					 quote_identifier(c->key), c->qualname);
	if (rows == ROWS_LISTED)
		appendStringInfo(&buf, " WHERE c.%s = ANY ($2::%s[])", quote_identifier(c->key), key_type);
	else if (rows == ROWS_EACH)
		appendStringInfo(&buf, " WHERE c.%s = (k.cid)::%s", quote_identifier(c->key), key_type);
	appendStringInfoString(&buf, ") c");
	if (cx->from_store)
		appendStringInfoString(&buf, "\n  LEFT JOIN segment.clock_features fst ON fst.customer_id = c._segment_cid");
	for (int fs = 0; fs < FS_COUNT; fs++)
		append_feature_join(cx, &buf, fs, rows, key_type);
	append_lookup_join(&buf, "segment.membership", "segment_id", cx->member_of, true, 's', "fm", rows);
	append_lookup_join(&buf, "segment.tags", "tag", cx->tags, false, 't', "ft", rows);
	append_lookup_join(&buf, "segment.group_members", "group_name", cx->groups, false, 'g', "fg", rows);
	if (cx->need_rfm)
		appendStringInfoString(&buf, "\n  LEFT JOIN segment.rfm_scores fr ON fr.customer_id = c._segment_cid");
	if (cx->need_points)
		appendStringInfo(&buf, "\n  LEFT JOIN %s(SELECT p.customer_id AS k, sum(p.points) AS score"
						 " FROM segment.points p WHERE p.at <= $1"
						 " AND (p.expires_at IS NULL OR p.expires_at > $1)%s"
						 " GROUP BY p.customer_id) fp ON fp.k = c._segment_cid",
						 rows == ROWS_EACH ? "LATERAL " : "", lookup_filter(rows, "p.customer_id"));
	return buf.data;
}

char *
compiler_query(Compiler *cx, List *segment_ids, List *predicates, bool for_customers)
{
	CustomerRows rows = for_customers ? ROWS_LISTED : ROWS_ALL;

	return psprintf("SELECT c.cid, s.sid FROM (%s\n) c, pg_catalog.unnest(c.sids) AS s(sid)"
					" WHERE s.sid IS NOT NULL",
					compiler_customer_query(cx, segment_ids, predicates, rows));
}

/*
 * The customers whose membership the clock may have changed between $2 (the
 * time the segments were last brought current) and $1 (now): rows that
 * crossed a window edge and that some feature counts, birthdays, points
 * given or expiring (without by_condition, every row near an edge: the
 * same query for segments whose windows end alike).  NULL when the
 * rules' clock effects cannot be narrowed down, and every customer must be
 * revisited.
 */
char *
compiler_tick_query(Compiler *cx, bool by_condition, TickRows rows)
{
	Catalog    *cat = cx->cat;
	StringInfoData buf;
	ListCell   *lc;

	if (cx->clock_unbounded)
		return NULL;
	initStringInfo(&buf);
	appendStringInfoString(&buf, "SELECT NULL::pg_catalog.text WHERE false");
	for (int fs = 0; fs < FS_COUNT; fs++)
	{
		bool		conditioned = by_condition && rows_conditioned(cx, fs);

		if (cx->features[fs] == NIL || rows == TICK_ROWS_NONE)
			continue;
		appendStringInfo(&buf, "\nUNION SELECT (%s)::pg_catalog.text", feature_customer(cx, fs));
		/* items without a condition: their orders' times are enough */
		append_feature_from(cx, &buf, fs == FS_ITEMS && !conditioned ? FS_ORDERS : fs);
		append_edge_band(&buf, feature_time(cx, fs), cx->edges[fs]);
		if (conditioned)
			append_row_conditions(cx, &buf, fs);
		if (rows == TICK_ROWS_LISTED)
			appendStringInfo(&buf, " AND %s = ANY ($3::%s[])", feature_customer(cx, fs),
							 customer_key_type(cx));
	}
	foreach(lc, cx->age_columns)
	{
		/*
		 * The column SQL names the customers table as c.  An age changes on
		 * a birthday, so within the months of the days from $2 to $1 (all
		 * twelve past a year); that cheap test spares most customers the
		 * exact one.  (Born on 29 February: the age changes on 1 March of a
		 * common year, and 28 February, in range too, is in the birth month.)
		 */
		appendStringInfo(&buf, "\nUNION SELECT (c.%s)::pg_catalog.text FROM %s c"
						 " WHERE pg_catalog.date_part('month', (%s)::pg_catalog.date) = ANY (ARRAY(SELECT DISTINCT pg_catalog.date_part('month', d)"
						 " FROM pg_catalog.generate_series(LEAST($1, $2)::pg_catalog.date,"
						 " LEAST(GREATEST($1, $2)::pg_catalog.date, LEAST($1, $2)::pg_catalog.date + 366), '1 day') d))"
						 " AND %s IS DISTINCT FROM %s",
						 quote_identifier(cat->src[SRC_CUSTOMERS].key),
						 cat->src[SRC_CUSTOMERS].qualname, (char *) lfirst(lc),
						 age_years_sql("$1", lfirst(lc)), age_years_sql("$2", lfirst(lc)));
	}
	if (cx->need_points)
		appendStringInfoString(&buf, "\nUNION SELECT p.customer_id FROM segment.points p"
							   " WHERE (p.at > LEAST($1, $2) AND p.at <= GREATEST($1, $2))"
							   " OR (p.expires_at > LEAST($1, $2) AND p.expires_at <= GREATEST($1, $2))");
	return buf.data;
}
