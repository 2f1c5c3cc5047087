/*
 * verbs.c: the verbs of the rule language and the shapes of their
 * arguments, and the checks of time windows.
 *
 * These checks are shared by the parser and rule_from_json(): what one
 * accepts, the other accepts, so every stored rule has one canonical text.
 * They report through a RuleProblem rather than ereport so that each caller
 * can say where the problem is (a position in the text, or a JSON path).
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "rule/ast.h"
#include "utils/varlena.h"

/* Order matters only for messages: the list in hints follows it. */
const RuleVerb rule_verbs[] = {
	{"orders", VERB_ORDERS, false},
	{"spent", VERB_ORDERS, false},
	{"avg_order", VERB_ORDERS, false},
	{"max_order", VERB_ORDERS, false},
	{"min_order", VERB_ORDERS, false},
	{"order_months", VERB_ORDERS, false},
	{"days_since_last_order", VERB_ORDERS, true},
	{"first_order", VERB_ORDERS, true},
	{"last_order", VERB_ORDERS, true},
	{"bought", VERB_ITEMS, false},
	{"spent_on", VERB_ITEMS, false},
	{"events", VERB_EVENTS, false},
	{"sum_events", VERB_EVENTS, false},
	{"days_since_last_event", VERB_EVENTS, true},
	{"age", VERB_SCALAR, false},
	{"hour", VERB_SCALAR, false},
	{"within_km", VERB_SCALAR, false},
	{"tagged", VERB_MEMBERSHIP, false},
	{"in_group", VERB_MEMBERSHIP, false},
	{"in_segment", VERB_MEMBERSHIP, false},
	{NULL, VERB_ORDERS, false}
};

const RuleVerb *
rule_find_verb(const char *name)
{
	for (const RuleVerb *v = rule_verbs; v->name; v++)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

/*
 * The known verb nearest to a misspelt one, or NULL if none is near enough
 * to be a likely typo (about one edit per three characters, at most three).
 */
const char *
rule_nearest_verb(const char *name)
{
	int			len = strlen(name);
	int			max_d = Min(3, Max(1, (len + 2) / 3));
	const char *best = NULL;
	int			best_d = max_d + 1;

	if (len > 64)
		return NULL;
	for (const RuleVerb *v = rule_verbs; v->name; v++)
	{
		int			d = varstr_levenshtein(name, len, v->name, strlen(v->name),
										   1, 1, 1, true);

		if (d < best_d)
		{
			best_d = d;
			best = v->name;
		}
	}
	return best;
}

char *
rule_unknown_verb_hint(const char *name)
{
	const char *nearest = rule_nearest_verb(name);
	StringInfoData buf;

	if (nearest)
		return psprintf("Did you mean \"%s\"?", nearest);
	initStringInfo(&buf);
	appendStringInfoString(&buf, "The verbs are");
	for (const RuleVerb *v = rule_verbs; v->name; v++)
		appendStringInfo(&buf, "%s %s", v == rule_verbs ? "" : (v + 1)->name ? "," : ", and",
						 v->name);
	appendStringInfoChar(&buf, '.');
	return buf.data;
}

/* A call of each verb that works, for hints. */
static const char *
verb_example(const char *verb)
{
	static const struct
	{
		const char *verb;
		const char *example;
	}			examples[] =
	{
		{"orders", "orders(LAST 90 DAYS, status = 'returned') >= 1"},
		{"spent", "spent(LAST 365 DAYS) >= 1000"},
		{"avg_order", "avg_order(LAST 365 DAYS) < 100"},
		{"max_order", "max_order() < 50"},
		{"min_order", "min_order(LAST 365 DAYS) >= 20"},
		{"order_months", "order_months(LAST 6 MONTHS) >= 5"},
		{"days_since_last_order", "days_since_last_order > 90"},
		{"first_order", "first_order < 2026-01-01"},
		{"last_order", "last_order >= 2026-01-01"},
		{"bought", "bought(LAST 365 DAYS, category = 'Shoes') >= 3"},
		{"spent_on", "spent_on(LAST 365 DAYS, brand = 'Acme') >= 500"},
		{"events", "events('email_open', 'email_click', LAST 30 DAYS) >= 1"},
		{"sum_events", "sum_events('session', duration_s, LAST 30 DAYS) > 600"},
		{"days_since_last_event", "days_since_last_event('email_open') > 30"},
		{"age", "age(birth_date) BETWEEN 25 AND 34"},
		{"hour", "orders(LAST 90 DAYS, hour(placed_at) >= 22) >= 2"},
		{"within_km", "within_km(lat, lon, 41.9981, 21.4254, 30)"},
		{"tagged", "tagged('vip')"},
		{"in_group", "in_group('employees')"},
		{"in_segment", "in_segment('champions')"}
	};

	for (int i = 0; i < lengthof(examples); i++)
		if (strcmp(examples[i].verb, verb) == 0)
			return psprintf("For example: %s.", examples[i].example);
	return NULL;
}

static bool
fail(RuleProblem *problem, const RuleNode *node, char *message, const char *hint)
{
	problem->node = node;
	problem->sqlerrcode = ERRCODE_SYNTAX_ERROR;
	problem->message = message;
	problem->hint = hint ? pstrdup(hint) : NULL;
	return false;
}

static const char *
literal_kind_name(RuleNodeKind kind)
{
	switch (kind)
	{
		case RN_NUMBER:
			return "a number";
		case RN_STRING:
			return "a string";
		case RN_DATE:
			return "a date";
		default:
			return "a literal";
	}
}

static const char *
ordinal(int n)
{
	static const char *const names[] = {"first", "second", "third", "fourth", "fifth"};

	return n >= 1 && n <= 5 ? names[n - 1] : "next";
}

/* age(col), hour(col), within_km(lat_col, lon_col, lat, lon, km) */
static bool
check_scalar(RuleNode *call, RuleProblem *problem)
{
	const char *v = call->str;
	const char *example = verb_example(v);
	int			nargs = list_length(call->args);
	int			argno = 0;
	ListCell   *lc;

	if (strcmp(v, "within_km") != 0)
	{
		RuleNode   *arg;

		if (nargs != 1)
			return fail(problem, nargs > 1 ? list_nth(call->args, 1) : call,
						psprintf("%s() takes exactly one argument, a column name", v), example);
		arg = linitial(call->args);
		if (arg->kind != RN_NAME || arg->field != NULL)
			return fail(problem, arg,
						psprintf("the argument of %s() must be a column name", v), example);
		return true;
	}

	if (nargs != 5)
		return fail(problem, nargs > 5 ? list_nth(call->args, 5) : call,
					pstrdup("within_km() takes five arguments: the latitude and longitude columns, a latitude, a longitude and a distance in kilometres"),
					example);
	foreach(lc, call->args)
	{
		RuleNode   *arg = lfirst(lc);

		argno++;
		if (argno <= 2 && (arg->kind != RN_NAME || arg->field != NULL))
			return fail(problem, arg,
						psprintf("the %s argument of within_km() must be a column name",
								 ordinal(argno)), example);
		if (argno > 2 && arg->kind != RN_NUMBER)
			return fail(problem, arg,
						psprintf("the %s argument of within_km() must be a number",
								 ordinal(argno)), example);
	}
	return true;
}

/* tagged('x'), in_group('x'), in_segment('x') */
static bool
check_membership(RuleNode *call, RuleProblem *problem)
{
	const char *v = call->str;
	const char *example = verb_example(v);
	int			nargs = list_length(call->args);
	RuleNode   *arg;

	if (nargs != 1)
		return fail(problem, nargs > 1 ? list_nth(call->args, 1) : call,
					psprintf("%s() takes exactly one argument, a name in single quotes", v),
					example);
	arg = linitial(call->args);
	if (arg->kind != RN_STRING)
		return fail(problem, arg,
					psprintf("the argument of %s() must be a string literal", v), example);
	return true;
}

/*
 * Checks the arguments of a verb call and, for behaviour verbs, puts them in
 * canonical order: event kinds, the column to sum, the window, then the
 * filters as written.  Filters are any conditions; the binder checks their
 * names later.
 */
bool
rule_check_call(RuleNode *call, const RuleVerb *verb, RuleProblem *problem)
{
	const char *v = call->str;
	const char *example = verb_example(v);
	bool		behaviour = verb->kind == VERB_ORDERS || verb->kind == VERB_ITEMS ||
		verb->kind == VERB_EVENTS;
	bool		is_events = verb->kind == VERB_EVENTS;
	bool		is_sum = strcmp(v, "sum_events") == 0;
	List	   *kinds = NIL;
	List	   *filters = NIL;
	RuleNode   *column = NULL;
	RuleNode   *window = NULL;
	ListCell   *lc;

	foreach(lc, call->args)
	{
		RuleNode   *arg = lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (arg->kind == RN_WINDOW)
		{
			if (!behaviour)
				return fail(problem, arg, psprintf("%s() takes no time window", v), example);
			if (window)
				return fail(problem, arg, psprintf("%s() takes at most one time window", v),
							example);
			window = arg;
		}
		else if (!behaviour)
			continue;			/* shapes checked below */
		else if (is_events && arg->kind == RN_STRING)
		{
			if (window || column || filters)
				return fail(problem, arg,
							psprintf("event kinds must come first in %s()", v),
							psprintf("Write the event kinds before %s. %s",
									 window ? "the time window" : is_sum && !filters ?
									 "the column to sum" : "the conditions",
									 example));
			kinds = lappend(kinds, arg);
		}
		else if (is_sum && column == NULL)
		{
			if (arg->kind != RN_NAME || arg->field != NULL)
				return fail(problem, arg,
							pstrdup("sum_events() needs the column to sum after the event kinds"),
							example);
			column = arg;
		}
		else
		{
			if (arg->kind == RN_NUMBER || arg->kind == RN_STRING || arg->kind == RN_DATE)
				return fail(problem, arg,
							psprintf("%s() takes %s, not %s", v,
									 is_sum ? "event kinds, a column to sum, a time window and conditions" :
									 is_events ? "event kinds, a time window and conditions" :
									 "a time window and conditions",
									 literal_kind_name(arg->kind)),
							example);
			filters = lappend(filters, arg);
		}
	}

	switch (verb->kind)
	{
		case VERB_SCALAR:
			return check_scalar(call, problem);
		case VERB_MEMBERSHIP:
			return check_membership(call, problem);
		default:
			break;
	}

	if (is_sum && kinds == NIL)
		return fail(problem, call, pstrdup("sum_events() needs at least one event kind"),
					example);
	if (is_sum && column == NULL)
		return fail(problem, call, pstrdup("sum_events() needs the column to sum"), example);

	if (column)
		kinds = lappend(kinds, column);
	if (window)
		kinds = lappend(kinds, window);
	call->args = list_concat(kinds, filters);
	return true;
}

/*
 * A window must cover some time: LAST n with n >= 1, BETWEEN n1 AND n2 AGO
 * with n1 > n2 >= 0, BETWEEN d1 AND d2 with valid dates and d1 <= d2.
 */
bool
rule_check_window(const RuleNode *w, RuleProblem *problem)
{
	char	   *hint = NULL;

	switch (w->wkind)
	{
		case WIN_LAST:
			if (w->n1 < 1)
				return fail(problem, w, psprintf("time window \"%s\" is empty", rule_deparse(w)),
							"A LAST window covers at least one unit, as in LAST 1 DAY.");
			break;
		case WIN_AGO:
			if (w->n1 < 0 || w->n2 < 0)
				return fail(problem, w, psprintf("time window \"%s\" reaches into the future",
												 rule_deparse(w)),
							"The numbers of a BETWEEN ... AGO window count back from now and cannot be negative.");
			if (w->n1 == w->n2)
				return fail(problem, w, psprintf("time window \"%s\" is empty", rule_deparse(w)),
							"The first number counts further back than the second, as in BETWEEN 90 AND 60 DAYS AGO.");
			if (w->n1 < w->n2)
			{
				RuleNode	swapped = *w;

				swapped.n1 = w->n2;
				swapped.n2 = w->n1;
				return fail(problem, w, psprintf("time window \"%s\" is backwards", rule_deparse(w)),
							psprintf("Write the larger number first: %s.", rule_deparse(&swapped)));
			}
			break;
		case WIN_DATES:
			if (w->str == NULL || !rule_check_date(w->str, strlen(w->str), &hint))
				return fail(problem, w, psprintf("invalid date \"%s\" in time window",
												 w->str ? w->str : ""), hint);
			if (w->field == NULL || !rule_check_date(w->field, strlen(w->field), &hint))
				return fail(problem, w, psprintf("invalid date \"%s\" in time window",
												 w->field ? w->field : ""), hint);
			if (strcmp(w->str, w->field) > 0)
			{
				RuleNode	swapped = *w;

				swapped.str = w->field;
				swapped.field = w->str;
				return fail(problem, w, psprintf("time window \"%s\" is backwards", rule_deparse(w)),
							psprintf("Write the earlier date first: %s.", rule_deparse(&swapped)));
			}
			break;
	}
	return true;
}
