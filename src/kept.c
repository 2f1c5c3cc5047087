/*
 * kept.c: statements prepared once per backend and kept (see kept.h).
 */
#include "postgres.h"

#include "access/xact.h"
#include "kept.h"
#include "utils/guc.h"
#include "utils/memutils.h"

static List *retired = NIL;		/* plans to free at the end of the transaction */
static List *retired_contexts = NIL;
static bool callback_registered = false;

SPIPlanPtr
kept_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types, int cursor_options)
{
	SPIPlanPtr	plan;

	if (*slot != NULL)
		return *slot;
	plan = SPI_prepare_cursor(sql, nargs, types, cursor_options);
	if (plan == NULL)
		elog(ERROR, "preparing \"%.200s\" failed: %s", sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "keeping the plan of \"%.200s\" failed", sql);
	*slot = plan;
	return plan;
}

void
kept_run(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types, Datum *values,
		 const char *nulls, bool read_only, int expect)
{
	int			ret = SPI_execute_plan(kept_plan(slot, sql, nargs, types, CURSOR_OPT_GENERIC_PLAN),
									   values, nulls, read_only, 0);

	if (ret != expect)
		elog(ERROR, "\"%.200s\" failed: %s", sql, SPI_result_code_string(ret));
}

int
kept_index_joins(void)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("enable_hashjoin", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("enable_mergejoin", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return level;
}

void
kept_joins_restore(int level)
{
	AtEOXact_GUC(true, level);
}

static void
free_retired(XactEvent event, void *arg)
{
	ListCell   *lc;
	MemoryContext old;

	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT)
		return;
	foreach(lc, retired)
		SPI_freeplan(lfirst(lc));
	foreach(lc, retired_contexts)
		MemoryContextDelete(lfirst(lc));
	old = MemoryContextSwitchTo(TopMemoryContext);
	list_free(retired);
	list_free(retired_contexts);
	MemoryContextSwitchTo(old);
	retired = NIL;
	retired_contexts = NIL;
}

static void
register_callback(void)
{
	if (!callback_registered)
	{
		RegisterXactCallback(free_retired, NULL);
		callback_registered = true;
	}
}

void
kept_retire(SPIPlanPtr plan)
{
	MemoryContext old;

	if (plan == NULL)
		return;
	register_callback();
	old = MemoryContextSwitchTo(TopMemoryContext);
	retired = lappend(retired, plan);
	MemoryContextSwitchTo(old);
}

void
kept_retire_context(MemoryContext context)
{
	MemoryContext old;

	register_callback();
	old = MemoryContextSwitchTo(TopMemoryContext);
	retired_contexts = lappend(retired_contexts, context);
	MemoryContextSwitchTo(old);
}

ParamListInfo
kept_params(Datum *values, bool *nulls, int n, Oid *types)
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
