/*
 * segment.c: module entry point and settings.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

int			segment_tick_interval = 0;
char	   *segment_database = NULL;

void
_PG_init(void)
{
	/* nothing to set up while pg_upgrade restores the schema */
	if (IsBinaryUpgrade)
		return;

	DefineCustomIntVariable("segment.tick_interval",
							"Seconds between two runs of segment.tick() by the background worker.",
							"0 turns the worker off. Takes effect on reload.",
							&segment_tick_interval,
							0, 0, 86400,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	/* the worker's database is fixed at server start, so only then */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomStringVariable("segment.database",
								   "Database in which the background worker runs segment.tick().",
								   NULL,
								   &segment_database,
								   "postgres",
								   PGC_POSTMASTER, 0,
								   NULL, NULL, NULL);
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("segment");
#else
	EmitWarningsOnPlaceholders("segment");
#endif

	if (process_shared_preload_libraries_in_progress)
		segment_worker_register();
}
