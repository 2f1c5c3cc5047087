/*
 * compile_store.c: the SQL of the clock's store of features (compile.h).
 *
 * A tick one day later changes few customers' segments, but finding which
 * means evaluating the customers with a row at a window's edge, and
 * aggregating their whole histories costs a good part of a full refresh:
 * the customers with an order exactly a year ago are the heaviest buyers.
 * Counts and sums need no history.  A count as of T1 is the count as of T0
 * plus the rows that entered its window in between, less those that left
 * it; and a row can only enter or leave a window when it lies within the
 * time that window's edge moved over.  So these features are kept per
 * customer as of one time, and moving them on reads only the rows near the
 * edges: for each, whether it counts at T1 less whether it counted at T0.
 *
 * A move also has each row before and after.  A rule is a function of its
 * comparisons, and one of kept features with constants can only change
 * truth where the move changed a feature: the move lists, per segment, the
 * customers for whom one did, and tick() revisits those rather than every
 * customer with a row near an edge.
 */
#include "postgres.h"

#include "compile_internal.h"
#include "utils/builtins.h"

struct StoreLayout
{
	Compiler   *now;			/* the stored features, windows ending at $1 */
	Compiler   *then;			/* the same features, windows ending at $2 */
	/* per element stored, the feature (aggregate SQL) it keeps all or part of */
	List	   *kept_from[FS_COUNT];
	char	   *signature;
	/*
	 * The segments whose changes a move can tell, and per segment that reads
	 * a stored feature the CASE giving its id when the move changed the
	 * truth of one of its comparisons, for an updated and an inserted row.
	 */
	List	   *flip_ids;
	List	   *flip_updated;
	List	   *flip_inserted;
};

/* Whether a kept feature's window (ending at as_of) has a bound at this edge. */
static bool
edge_kept(List *filters, const char *as_of, const char *edge)
{
	char	   *bound = window_bound(as_of, edge);
	ListCell   *lc;

	foreach(lc, filters)
		if (lfirst(lc) != NULL && strstr(lfirst(lc), bound) != NULL)
			return true;
	return false;
}

/*
 * Leaves the features as the elements the store keeps, in order: counts and
 * sums of exact numbers as they are, order_months() as one count per month
 * slot, nothing else.  Window edges only dropped features end at go too: a
 * move need not read the rows near those.  kept_from gets, per element, the
 * feature it comes from.
 */
static void
keep_stored(Compiler *cx, List **kept_from)
{
	for (int fs = 0; fs < FS_COUNT; fs++)
	{
		List	   *features = NIL;
		List	   *calls = NIL;
		List	   *filters = NIL;
		List	   *edges = NIL;
		ListCell   *lc;

		kept_from[fs] = NIL;
		foreach(lc, cx->features[fs])
		{
			int			k = foreach_current_index(lc);
			int			width = list_nth_int(cx->store_width[fs], k);
			char	   *filter = list_nth(cx->filters[fs], k);

			if (width == 1)
			{
				features = lappend(features, lfirst(lc));
				calls = lappend(calls, list_nth(cx->calls[fs], k));
				filters = lappend(filters, filter);
				kept_from[fs] = lappend(kept_from[fs], lfirst(lc));
			}
			for (int slot = 0; width > 1 && slot < width; slot++)
			{
				char	   *in_slot = psprintf("%s%s%s%s = %d", filter ? "(" : "", filter ? filter : "",
											   filter ? ") AND " : "",
											   month_slot_sql(feature_time(cx, fs), width), slot);

				features = lappend(features, psprintf("count(*) FILTER (WHERE %s)", in_slot));
				calls = lappend(calls, "count(*)");
				filters = lappend(filters, in_slot);
				kept_from[fs] = lappend(kept_from[fs], lfirst(lc));
			}
		}
		foreach(lc, cx->edges[fs])
			if (edge_kept(filters, cx->as_of, lfirst(lc)))
				edges = lappend(edges, lfirst(lc));
		cx->features[fs] = features;
		cx->calls[fs] = calls;
		cx->filters[fs] = filters;
		cx->store_width[fs] = NIL;
		cx->edges[fs] = edges;
	}
}

/* A feature's first element in the store (1-based), 0 if it is not kept. */
static int
kept_place(StoreLayout *layout, FeatureSource fs, const char *aggregate)
{
	ListCell   *lc;

	foreach(lc, layout->kept_from[fs])
		if (strcmp(lfirst(lc), aggregate) == 0)
			return foreach_current_index(lc) + 1;
	return 0;
}

void
append_store_element(StringInfo buf, const char *row, const char *delta, FeatureSource fs,
					 int place, int width)
{
	const char *a = feature_alias[fs];

	appendStringInfoChar(buf, '(');
	for (int k = 0; k < Max(width, 1); k++)
	{
		char	   *element = delta ?
			psprintf("(%s.%s[%d] - COALESCE(%s%s[%d], 0))", row, a, place + k, delta, a, place + k) :
			psprintf("%s.%s[%d]", row, a, place + k);

		if (width <= 1)
			appendStringInfoString(buf, element);
		else
			/* months with orders, a bit each, as the bitmask aggregate has them */
			appendStringInfo(buf, "%sCASE WHEN %s > 0 THEN " INT64_FORMAT " ELSE 0 END",
							 k ? " | " : "", element, (int64) 1 << k);
	}
	appendStringInfoString(buf, width > 1 ? ")::pg_catalog.int8" : ")");
}

/*
 * The element of the store's row flip_row that keeps a feature, less what
 * the move added when flip_delta names the move's delta: the value before.
 * NULL, and flip_unkept, for a feature the store does not keep.
 */
char *
store_element_sql(Compiler *cx, FeatureSource fs, const char *aggregate, int width)
{
	int			place = kept_place(cx->flip_layout, fs, aggregate);
	StringInfoData buf;

	if (place == 0)
	{
		cx->flip_unkept = true;
		return "NULL";
	}
	for (int k = 0; k < Max(width, 1); k++)
		cx->flip_moved[fs] |= UINT64CONST(1) << Min(place + k - 1, 63);
	initStringInfo(&buf);
	append_store_element(&buf, cx->flip_row, cx->flip_delta, fs, place, width);
	return buf.data;
}

/*
 * A segment's rule compiled for telling whether a move changed it: its
 * atoms, each feature an element of the row `row`, less the delta `delta`
 * when set (the value before the move); NIL and *ok false when the rule
 * reads a feature the store does not keep, or a feature beside something
 * other than a constant.  *elements gets the elements read, as bits.
 */
static List *
rule_atoms(StoreLayout *layout, Catalog *cat, SegmentEntry *seg, const char *row,
		   const char *delta, bool *ok, uint64 *elements)
{
	Compiler   *cx = compiler_create(cat);
	RuleDeps	deps = {0};

	cx->flip_layout = layout;
	cx->flip_row = row;
	cx->flip_delta = delta;
	(void) compiler_add_rule(cx, seg->name, seg->rule, &deps);
	*ok = !cx->flip_mixed && !cx->flip_unkept && !cx->clock_unbounded;
	memcpy(elements, cx->flip_moved, sizeof(cx->flip_moved));
	return *ok ? cx->atoms : NIL;
}

/*
 * "CASE WHEN <moved> AND ARRAY[atoms before] IS DISTINCT FROM ARRAY[atoms
 * after] THEN id END": the segment's id when the move changed one of its
 * comparisons.  moved_fmt gives a source's moved-elements bits from its
 * alias, so that a row that moved none of the elements the atoms read is
 * passed over at the cost of an AND.
 */
static char *
flip_case(SegmentEntry *seg, List *before, List *after, const uint64 *elements, const char *moved_fmt)
{
	StringInfoData buf;
	ListCell   *b,
			   *a;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "CASE WHEN (");
	for (int fs = 0; fs < FS_COUNT; fs++)
	{
		if (elements[fs] == 0)
			continue;
		appendStringInfo(&buf, "%s(", first ? "" : " OR ");
		appendStringInfo(&buf, moved_fmt, feature_alias[fs]);
		appendStringInfo(&buf, " & " INT64_FORMAT ") <> 0", (int64) elements[fs]);
		first = false;
	}
	appendStringInfoString(&buf, ") AND ARRAY[");
	foreach(b, before)
		appendStringInfo(&buf, "%s(%s)", foreach_current_index(b) ? ", " : "", (char *) lfirst(b));
	appendStringInfoString(&buf, "] IS DISTINCT FROM ARRAY[");
	foreach(a, after)
		appendStringInfo(&buf, "%s(%s)", foreach_current_index(a) ? ", " : "", (char *) lfirst(a));
	appendStringInfo(&buf, "] THEN %d END", seg->id);
	return buf.data;
}

/*
 * The segments a move can tell the changes of (flip_ids), and how: for a
 * row the move updated (s, after it; d, what it moved by, with its moved
 * elements' bits d.mfo, d.mfi, d.mfe) and for one it inserted (all new).
 */
static void
plan_flips(StoreLayout *layout, Catalog *cat, List *ids)
{
	ListCell   *lc;

	foreach(lc, ids)
	{
		SegmentEntry *seg = catalog_find_segment_id(cat, lfirst_int(lc));
		bool		ok;
		uint64		elements[FS_COUNT];
		List	   *after = rule_atoms(layout, cat, seg, "s", NULL, &ok, elements);

		if (!ok)
			continue;
		layout->flip_ids = lappend_int(layout->flip_ids, seg->id);
		if (after == NIL)
			continue;			/* reads no stored feature: no move changes it */
		layout->flip_updated =
			lappend(layout->flip_updated,
					flip_case(seg, rule_atoms(layout, cat, seg, "s", "d.", &ok, elements), after,
							  elements, "d.m%s"));
		layout->flip_inserted =
			lappend(layout->flip_inserted,
					flip_case(seg, rule_atoms(layout, cat, seg, "s", "s.", &ok, elements), after,
							  elements, "segment._counts_moved(s.%s)"));
	}
}

StoreLayout *
store_layout(Catalog *cat, List *ids)
{
	List	   *ordered = catalog_dependency_order(cat, ids);
	List	   *segment_ids;
	List	   *predicates;
	StoreLayout *layout = palloc0(sizeof(StoreLayout));
	List	   *kept_then[FS_COUNT];
	StringInfoData signature;

	if (ordered == NIL)
		return NULL;
	/* the rules compile to the same features in the same order both times */
	layout->now = compile_pass_at(cat, ordered, true, "$1", &segment_ids, &predicates);
	layout->then = compile_pass_at(cat, ordered, true, "$2", &segment_ids, &predicates);
	keep_stored(layout->now, layout->kept_from);
	keep_stored(layout->then, kept_then);

	initStringInfo(&signature);
	for (int fs = 0; fs < FS_COUNT; fs++)
	{
		ListCell   *lc;

		if (list_length(layout->now->features[fs]) != list_length(layout->then->features[fs]))
			elog(ERROR, "the clock's store compiled to different features at two times");
		foreach(lc, layout->now->features[fs])
			appendStringInfo(&signature, "%s %s\n", feature_alias[fs], (char *) lfirst(lc));
	}
	if (signature.len == 0)
		return NULL;
	layout->signature = signature.data;
	plan_flips(layout, cat, ordered);
	return layout;
}

const char *
store_signature(StoreLayout *layout)
{
	return layout->signature;
}

/* Feature k of a source as of `as_of`, 0 rather than NULL. */
static char *
counted_at(Compiler *cx, FeatureSource fs, int k, const char *as_of)
{
	const char *filter = list_nth(cx->filters[fs], k);

	return psprintf("COALESCE(%s FILTER (WHERE %s <= %s%s%s%s), 0)",
					(char *) list_nth(cx->calls[fs], k), feature_time(cx, fs), as_of,
					filter ? " AND (" : "", filter ? filter : "", filter ? ")" : "");
}

/* Every customer's features of one source as of $1 (listed: those in $2). */
static char *
build_part(StoreLayout *layout, FeatureSource fs, bool listed)
{
	Compiler   *cx = layout->now;
	const char *cust = feature_customer(cx, fs);
	StringInfoData buf;
	bool		all_filtered = true;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfo(&buf, "SELECT (%s)::pg_catalog.text AS k, ARRAY[", cust);
	foreach(lc, cx->features[fs])
	{
		int			k = foreach_current_index(lc);

		appendStringInfo(&buf, "%s%s", k ? ", " : "", counted_at(cx, fs, k, "$1"));
		all_filtered &= list_nth(cx->filters[fs], k) != NULL;
	}
	appendStringInfoString(&buf, "]::pg_catalog.numeric[] AS v");
	append_feature_from(cx, &buf, fs);
	appendStringInfo(&buf, " WHERE %s <= $1", feature_time(cx, fs));
	/* rows no feature counts would only add work to the grouping */
	if (all_filtered)
	{
		appendStringInfoString(&buf, " AND (");
		foreach(lc, cx->filters[fs])
			appendStringInfo(&buf, "%s(%s)", foreach_current_index(lc) ? " OR " : "",
							 (char *) lfirst(lc));
		appendStringInfoChar(&buf, ')');
	}
	if (listed)
		appendStringInfo(&buf, " AND %s = ANY ($2::%s[])", cust, customer_key_type(cx));
	appendStringInfo(&buf, " GROUP BY %s", cust);
	return buf.data;
}

/*
 * What moving from $2 to $1 changes in each customer's features of one
 * source: only rows within the time a window's edge moved over can enter or
 * leave it, at edge 0 (the time itself) and at every window's length, and
 * only rows some feature's condition counts.
 */
static char *
move_part(StoreLayout *layout, FeatureSource fs)
{
	Compiler   *cx = layout->now;
	const char *cust = feature_customer(cx, fs);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "SELECT (%s)::pg_catalog.text AS k, ARRAY[", cust);
	for (int k = 0; k < list_length(cx->features[fs]); k++)
		appendStringInfo(&buf, "%s%s - %s", k ? ", " : "", counted_at(cx, fs, k, "$1"),
						 counted_at(layout->then, fs, k, "$2"));
	appendStringInfoString(&buf, "]::pg_catalog.numeric[] AS v");
	append_feature_from(cx, &buf, fs);
	append_edge_band(&buf, feature_time(cx, fs), cx->edges[fs]);
	append_row_conditions(cx, &buf, fs);
	appendStringInfo(&buf, " GROUP BY %s", cust);
	return buf.data;
}

/*
 * (customer_id, fo, fi, fe) from one part per source, NULL for a source
 * without.  The parts are stacked and grouped rather than joined: the
 * planner's guess for a chain of full joins grows past any table's size,
 * and would have it hash all of segment.clock_features to move a few rows.
 */
static char *
by_customer(StoreLayout *layout, bool move, bool listed)
{
	StringInfoData parts;
	StringInfoData buf;

	initStringInfo(&parts);
	initStringInfo(&buf);
	appendStringInfoString(&buf, "SELECT u.k AS customer_id");
	for (int fs = 0; fs < FS_COUNT; fs++)
	{
		if (layout->now->features[fs] == NIL)
		{
			appendStringInfo(&buf, ", NULL::pg_catalog.numeric[] AS %s", feature_alias[fs]);
			continue;
		}
		appendStringInfo(&buf, ", max(u.v) FILTER (WHERE u.s = %d) AS %s", fs, feature_alias[fs]);
		appendStringInfo(&parts, "%sSELECT %d AS s, p.k, p.v FROM (%s) p", parts.len ? " UNION ALL " : "",
						 fs, move ? move_part(layout, fs) : build_part(layout, fs, listed));
	}
	appendStringInfo(&buf, " FROM (%s) u", parts.data);
	/* a row near an edge need not have moved a feature: nothing to write */
	if (move)
		appendStringInfoString(&buf, " WHERE NOT 0 = ALL (u.v)");
	appendStringInfoString(&buf, " GROUP BY u.k");
	return buf.data;
}

char *
store_build_sql(StoreLayout *layout, bool listed)
{
	return psprintf("INSERT INTO segment.clock_features (customer_id, fo, fi, fe) %s",
					by_customer(layout, false, listed));
}

/* The ids the CASEs give for a row, as sids (int4[], empty for none). */
static void
append_flipped(StringInfo buf, List *cases)
{
	ListCell   *lc;

	appendStringInfoString(buf, "pg_catalog.array_remove(ARRAY[NULL::pg_catalog.int4");
	foreach(lc, cases)
		appendStringInfo(buf, ", %s", (char *) lfirst(lc));
	appendStringInfoString(buf, "], NULL) AS sids");
}

/*
 * Rows are updated in place, joined with what moved, and inserted for the
 * customers who had none: those the update did not return.  A stale row
 * (segment.clock_stale) is moved like any other: whatever it holds, it is
 * built again before it is read.
 *
 * The moved rows then tell, for the segments of flip_ids, which customers
 * a comparison of their rule changed truth for, between the row before and
 * after: segment.clock_flips gets a row per segment, from $2 to $1.  For a
 * customer whose membership is the rule at $2, no other can change by the
 * move (tick() says which those are).
 */
char *
store_move_sql(StoreLayout *layout)
{
	StringInfoData buf;
	StringInfoData ids;
	ListCell   *lc;

	initStringInfo(&buf);
	if (layout->flip_ids == NIL)
		appendStringInfo(&buf, "WITH d AS MATERIALIZED (%s)", by_customer(layout, true, false));
	else
		/* with the elements each row moves, as bits */
		appendStringInfo(&buf, "WITH d AS MATERIALIZED (SELECT b.*, segment._counts_moved(b.fo) AS mfo,"
						 " segment._counts_moved(b.fi) AS mfi, segment._counts_moved(b.fe) AS mfe"
						 " FROM (%s) b)", by_customer(layout, true, false));
	appendStringInfoString(&buf, ",\n moved AS (UPDATE segment.clock_features s SET ");
	for (int fs = 0; fs < FS_COUNT; fs++)
	{
		const char *a = feature_alias[fs];

		appendStringInfo(&buf, "%s%s = ", fs ? ", " : "", a);
		if (layout->now->features[fs] == NIL)
		{
			appendStringInfo(&buf, "s.%s", a);
			continue;
		}
		appendStringInfo(&buf, "segment._counts_add(s.%s, d.%s)", a, a);
	}
	if (layout->flip_ids == NIL)
	{
		appendStringInfoString(&buf, " FROM d WHERE s.customer_id = d.customer_id RETURNING s.customer_id)\n"
							   "INSERT INTO segment.clock_features (customer_id, fo, fi, fe)"
							   " SELECT d.customer_id, d.fo, d.fi, d.fe FROM d"
							   " WHERE d.customer_id NOT IN (SELECT m.customer_id FROM moved m)");
		return buf.data;
	}
	/* each row says which segments' comparisons it changed, as it is written */
	appendStringInfoString(&buf, " FROM d WHERE s.customer_id = d.customer_id RETURNING s.customer_id, ");
	append_flipped(&buf, layout->flip_updated);
	appendStringInfoString(&buf, "),\n added AS (INSERT INTO segment.clock_features AS s (customer_id, fo, fi, fe)"
						   " SELECT d.customer_id, d.fo, d.fi, d.fe FROM d"
						   " WHERE d.customer_id NOT IN (SELECT m.customer_id FROM moved m)"
						   " RETURNING s.customer_id, ");
	append_flipped(&buf, layout->flip_inserted);
	appendStringInfoString(&buf, "),\n flipped AS MATERIALIZED (SELECT x.customer_id, x.sids"
						   " FROM (SELECT * FROM moved UNION ALL SELECT * FROM added) x"
						   " WHERE pg_catalog.cardinality(x.sids) > 0)\n");
	/* a row per segment, empty when the move changed nothing of it */
	initStringInfo(&ids);
	foreach(lc, layout->flip_ids)
		appendStringInfo(&ids, "%s%d", ids.len ? "," : "", lfirst_int(lc));
	appendStringInfo(&buf, "INSERT INTO segment.clock_flips (segment_id, customers, moved_from, moved_to)"
					 " SELECT p.sid, COALESCE((SELECT pg_catalog.array_agg(f.customer_id ORDER BY f.customer_id)"
					 " FROM flipped f WHERE p.sid = ANY (f.sids)), '{}'), $2, $1"
					 " FROM pg_catalog.unnest('{%s}'::pg_catalog.int4[]) p(sid)", ids.data);
	return buf.data;
}

bool
compiler_read_store(Compiler *cx, StoreLayout *layout)
{
	List	   *places[FS_COUNT] = {NIL};

	for (int fs = 0; fs < FS_COUNT; fs++)
	{
		ListCell   *lc;

		foreach(lc, cx->features[fs])
		{
			/* its first element: a feature kept as month slots has several */
			int			place = kept_place(layout, fs, lfirst(lc));

			if (place == 0)
				return false;
			places[fs] = lappend_int(places[fs], place);
		}
	}
	for (int fs = 0; fs < FS_COUNT; fs++)
		cx->store_place[fs] = places[fs];
	cx->from_store = true;
	return true;
}
