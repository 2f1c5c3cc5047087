/*
 * evaluation.c: the SQL-callable side of the compiler.
 *
 * segment._rule_deps() binds one rule when a segment is defined;
 * segment._evaluation_sql() compiles a set of segments into one query that
 * the refresh engine runs for all customers or for a given few.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "compile.h"
#include "refresh.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(segment_rule_deps);
PG_FUNCTION_INFO_V1(segment_evaluation_sql);
PG_FUNCTION_INFO_V1(segment_tick_sql);

/* A JSON array of the names, each once, in first-seen order. */
static void
append_json_names(StringInfo buf, const char *key, List *names)
{
	List	   *seen = NIL;
	ListCell   *lc;

	appendStringInfo(buf, ", \"%s\": [", key);
	foreach(lc, names)
	{
		ListCell   *prev;
		bool		dup = false;

		foreach(prev, seen)
			dup |= strcmp(lfirst(prev), lfirst(lc)) == 0;
		if (dup)
			continue;
		if (seen != NIL)
			appendStringInfoString(buf, ", ");
		escape_json(buf, lfirst(lc));
		seen = lappend(seen, lfirst(lc));
	}
	appendStringInfoChar(buf, ']');
}

/*
 * segment._rule_deps(name text, rule segment.rule) returns jsonb:
 * {"sources": [...], "segments": [...], "tags": [...], "groups": [...],
 * "uses_clock": bool, "uses_points": bool}.  "segments" holds in_segment() names.
 * Raises the binding errors (unknown names, type mismatches, cycles on self).
 */
Datum
segment_rule_deps(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *rule = text_to_cstring(PG_GETARG_TEXT_PP(1));
	MemoryContext caller = CurrentMemoryContext;
	RuleDeps	deps = {0};
	StringInfoData buf;
	char	   *json;
	bool		first = true;

	SPI_connect();
	compiler_add_rule(compiler_create(catalog_current(true)), name, rule, &deps);

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"sources\": [");
	for (int k = 0; k < SRC_COUNT; k++)
		if (deps.sources[k])
		{
			appendStringInfo(&buf, "%s\"%s\"", first ? "" : ", ", source_kind_name(k));
			first = false;
		}
	/* RFM scores are a source of their own, rescored as orders change */
	if (deps.uses_rfm)
		appendStringInfoString(&buf, ", \"rfm\"");
	appendStringInfoChar(&buf, ']');
	append_json_names(&buf, "segments", deps.segments);
	append_json_names(&buf, "tags", deps.tags);
	append_json_names(&buf, "groups", deps.groups);
	appendStringInfo(&buf, ", \"uses_clock\": %s, \"uses_points\": %s}",
					 deps.uses_clock ? "true" : "false", deps.uses_points ? "true" : "false");

	json = MemoryContextStrdup(caller, buf.data);
	SPI_finish();
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

/* The given segments compiled into one evaluation, in dependency order. */
static Compiler *
compile_all(ArrayType *ids, List **segment_ids, List **predicates)
{
	Catalog    *cat = catalog_current(true);
	List	   *asked = int_array_to_list(ids);

	if (asked == NIL)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("no segments to evaluate"));
	return compile_pass(cat, catalog_dependency_order(cat, asked), true, segment_ids, predicates);
}

/*
 * segment._evaluation_sql(segment_ids int4[], for_customers bool) returns
 * the query text; see compiler_query() for its parameters.
 */
Datum
segment_evaluation_sql(PG_FUNCTION_ARGS)
{
	ArrayType  *ids = PG_GETARG_ARRAYTYPE_P(0);
	bool		for_customers = PG_GETARG_BOOL(1);
	MemoryContext caller = CurrentMemoryContext;
	List	   *segment_ids = NIL;
	List	   *predicates = NIL;
	Compiler   *cx;
	char	   *sql;

	SPI_connect();
	cx = compile_all(ids, &segment_ids, &predicates);
	sql = MemoryContextStrdup(caller, compiler_query(cx, segment_ids, predicates, for_customers));
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(sql));
}

/*
 * segment._tick_sql(segment_ids int4[], by_condition bool, rows text)
 * returns the query listing the customers the clock may have moved (see
 * compiler_tick_query()), or NULL when all must be revisited.  rows is
 * 'all', 'listed' or 'none' (TickRows).
 */
Datum
segment_tick_sql(PG_FUNCTION_ARGS)
{
	ArrayType  *ids = PG_GETARG_ARRAYTYPE_P(0);
	bool		by_condition = PG_GETARG_BOOL(1);
	char	   *rows_name = text_to_cstring(PG_GETARG_TEXT_PP(2));
	TickRows	rows;
	MemoryContext caller = CurrentMemoryContext;
	List	   *segment_ids = NIL;
	List	   *predicates = NIL;
	char	   *sql;

	if (strcmp(rows_name, "all") == 0)
		rows = TICK_ROWS_ALL;
	else if (strcmp(rows_name, "listed") == 0)
		rows = TICK_ROWS_LISTED;
	else if (strcmp(rows_name, "none") == 0)
		rows = TICK_ROWS_NONE;
	else
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("rows must be 'all', 'listed' or 'none', not \"%s\"", rows_name));
	SPI_connect();
	sql = compiler_tick_query(compile_all(ids, &segment_ids, &predicates), by_condition, rows);
	if (sql)
		sql = MemoryContextStrdup(caller, sql);
	SPI_finish();
	if (sql == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(sql));
}
