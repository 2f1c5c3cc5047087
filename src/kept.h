/*
 * kept.h: statements prepared once per backend and kept.  Triggers run the
 * same few statements on every insert, and planning them costs more than
 * running them for one customer.
 */
#ifndef SEGMENT_KEPT_H
#define SEGMENT_KEPT_H

#include "postgres.h"
#include "executor/spi.h"
#include "nodes/params.h"

/*
 * The plan in *slot, prepared from sql the first time; the caller is
 * connected to SPI.  cursor_options as for SPI_prepare_cursor().
 */
extern SPIPlanPtr kept_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types,
							int cursor_options);

/*
 * Runs the kept plan of sql with the given arguments (nulls as for
 * SPI_execute_plan, or NULL for none) and checks that it returned `expect`.
 * The plan is generic: these statements are for a customer or a few, and
 * planning each call for its arguments costs more than running it.
 */
extern void kept_run(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types,
					 Datum *values, const char *nulls, bool read_only, int expect);

/*
 * Parameters for SPI_execute_plan_extended(): values[i] of types[i], NULL
 * where nulls[i].
 */
extern ParamListInfo kept_params(Datum *values, bool *nulls, int n, Oid *types);

/*
 * Until kept_joins_restore(level), statements are planned to join by index
 * lookups, not by hashing or merging whole tables: for the few keys of one
 * statement, which the estimates of a generic plan (or of unnest()) cannot
 * tell from many.  Returns the level to restore; an error restores it too.
 */
extern int	kept_index_joins(void);
extern void kept_joins_restore(int level);

/*
 * A plan that belonged to a catalog that has since changed: freed at the end
 * of the transaction, when no statement of this one can be running it.
 */
extern void kept_retire(SPIPlanPtr plan);

/* The same for a memory context that such a catalog lived in. */
extern void kept_retire_context(MemoryContext context);

#endif							/* SEGMENT_KEPT_H */
