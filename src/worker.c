/*
 * worker.c: with segment in shared_preload_libraries, a background worker
 * runs segment.tick() every segment.tick_interval seconds in
 * segment.database, so time-dependent segments stay current without cron.
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "worker.h"

PGDLLEXPORT void segment_worker_main(Datum arg);

void
segment_worker_register(void)
{
	BackgroundWorker worker = {0};

	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "segment");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "segment_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "segment tick");
	snprintf(worker.bgw_type, BGW_MAXLEN, "segment tick");
	RegisterBackgroundWorker(&worker);
}

/* One tick, in its own transaction, if the extension is installed here. */
static void
run_tick(void)
{
	int			ret;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "SELECT segment.tick()");

	ret = SPI_execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'segment'", true, 1);
	if (ret == SPI_OK_SELECT && SPI_processed == 1)
	{
		ret = SPI_execute("SELECT count(*) FROM segment.tick()", false, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "segment.tick() failed: %s", SPI_result_code_string(ret));
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

void
segment_worker_main(Datum arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(segment_database, NULL, 0);
	elog(LOG, "segment tick worker started in database \"%s\"", segment_database);

	for (;;)
	{
		long		timeout = segment_tick_interval > 0 ? segment_tick_interval * 1000L : 60000L;

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();

		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		/* an error ends the process; the postmaster restarts it */
		if (segment_tick_interval > 0)
			run_tick();
	}
}
