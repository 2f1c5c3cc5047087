/*
 * compile.h: bind a rule's names to the tracked tables and turn rules into
 * one SQL query that evaluates many segments in a single pass.
 */
#ifndef SEGMENT_COMPILE_H
#define SEGMENT_COMPILE_H

#include "catalog.h"
#include "lib/stringinfo.h"
#include "rule/ast.h"
#include "utils/array.h"

/* What a rule reads: recorded at define time, used to order refreshes. */
typedef struct RuleDeps
{
	bool		sources[SRC_COUNT];
	bool		order_rows;		/* orders' own rows, not only those its items join */
	List	   *segments;		/* segment names read by in_segment() */
	List	   *tags;			/* tags read by tagged() */
	List	   *groups;			/* group names */
	bool		uses_clock;		/* relative windows, days since, age */
	bool		uses_rfm;
	bool		uses_points;
} RuleDeps;

typedef struct Compiler Compiler;

extern Compiler *compiler_create(Catalog *cat);

/*
 * Bind and type-check one rule; returns its SQL boolean expression over the
 * evaluation query's row.  Errors name the thing and its position in the rule.
 */
extern char *compiler_add_rule(Compiler *cx, const char *segment_name,
							   const char *rule_text, RuleDeps *deps);

/*
 * The evaluation query for the rules added, as (cid text, sid int4) rows of
 * true memberships.  $1 is as_of (timestamptz); with for_customers, $2 is a
 * text[] of customer keys and only those customers are evaluated.
 */
extern char *compiler_query(Compiler *cx, List *segment_ids, List *predicates,
							bool for_customers);

/* Which customers an evaluation is for. */
typedef enum CustomerRows
{
	ROWS_ALL,					/* everyone */
	ROWS_LISTED,				/* those in $2, a text[] of keys */
	ROWS_EACH					/* the one whose key is k.cid, for a LATERAL join */
} CustomerRows;

/*
 * The same, as one row per evaluated customer: (cid text, sids int4[]),
 * sids holding each segment's id where the customer is a member and NULL
 * where not, in the order of segment_ids.
 */
extern char *compiler_customer_query(Compiler *cx, List *segment_ids, List *predicates,
									 CustomerRows rows);

/*
 * Has the customer query also output, per customer, RFM's raw values:
 * rfm_last (timestamptz), rfm_frequency (bigint, 0 for none) and
 * rfm_monetary (numeric), aggregated with the other features of orders over
 * the rows for which in_window holds.  last and frequency are aggregate
 * calls over the orders row o; the amount is summed as the rules sum it.
 */
extern void compiler_add_rfm_values(Compiler *cx, const char *in_window, const char *last,
									const char *frequency);

/* Whose rows near a window's edge compiler_tick_query() reads. */
typedef enum TickRows
{
	TICK_ROWS_ALL,				/* every customer's */
	TICK_ROWS_LISTED,			/* only those of the customers in $3 (text[]) */
	TICK_ROWS_NONE				/* no one's: birthdays and points only */
} TickRows;

/*
 * The customers the clock may have moved in or out of the rules added, as
 * rows of text keys, between $2 (last brought current) and $1 (now); NULL
 * when every customer must be revisited.  by_condition leaves out rows no
 * feature counts; without it, the query depends on the windows' edges only.
 */
extern char *compiler_tick_query(Compiler *cx, bool by_condition, TickRows rows);

/*
 * Compiles, in one evaluation, as many of the segments ordered_ids (in
 * dependency order) as can be: a segment that reads another of the same
 * evaluation reads its predicate inline, and one that would have to read
 * stored membership of a segment still to be evaluated is left for a later
 * evaluation, unless `all`.  Fills the ids compiled and their predicates.
 */
extern Compiler *compile_pass(Catalog *cat, List *ordered_ids, bool all,
							   List **segment_ids, List **predicates);

/*
 * The clock's store (compile_store.c, clock_store.c): the features of the
 * segments the clock maintains that rows add up to (counts, sums of exact
 * numbers), kept per customer in segment.clock_features as of one time, and
 * moved to a later time by the rows that entered or left their windows.
 */
typedef struct StoreLayout StoreLayout;

/* The stored features of the segments ids; NULL when none can be stored. */
extern StoreLayout *store_layout(Catalog *cat, List *ids);

/* Text that differs whenever the stored features differ. */
extern const char *store_signature(StoreLayout *layout);

/*
 * INSERT INTO segment.clock_features of every customer's features as of $1,
 * or (listed) only of the customers in $2, a text[] of keys.  Customers with
 * no rows at all get none: a missing row means every feature is 0.
 */
extern char *store_build_sql(StoreLayout *layout, bool listed);

/*
 * The upsert moving every non-stale row of segment.clock_features from $2 to
 * $1: adds what rows that entered a window add and takes away what rows
 * that left one took.
 */
extern char *store_move_sql(StoreLayout *layout);

/*
 * Makes the evaluation read cx's features from the store instead of
 * aggregating them; false (and nothing changed) when one is not stored.
 */
extern bool compiler_read_store(Compiler *cx, StoreLayout *layout);

#endif							/* SEGMENT_COMPILE_H */
