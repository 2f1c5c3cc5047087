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

/*
 * The same, as one row per evaluated customer: (cid text, sids int4[]),
 * sids holding each segment's id where the customer is a member and NULL
 * where not, in the order of segment_ids.
 */
extern char *compiler_customer_query(Compiler *cx, List *segment_ids, List *predicates,
									 bool for_customers);

/*
 * The customers the clock may have moved in or out of the rules added, as
 * rows of text keys, between $2 (last brought current) and $1 (now); NULL
 * when every customer must be revisited.
 */
extern char *compiler_tick_query(Compiler *cx);

/* The catalog the compiler binds names against. */
extern Catalog *compiler_catalog(Compiler *cx);

/* The planner's estimate of the number of customers (reltuples). */
extern float4 compiler_customer_rows(Compiler *cx);

/*
 * Loads the catalog and compiles the rules of the segments with the given
 * ids (int4[]), in that order; the caller is connected to SPI.
 */
extern Compiler *compile_segments(ArrayType *ids, List **segment_ids, List **predicates);

#endif							/* SEGMENT_COMPILE_H */
