/*
 * refresh.h: the refresh engine.  Full refresh, define, the triggers and
 * the clock all come here; they differ only in which segments and which
 * customers they pass.
 */
#ifndef SEGMENT_REFRESH_H
#define SEGMENT_REFRESH_H

#include "catalog.h"
#include "utils/array.h"

/* What one segment's evaluation found and changed. */
typedef struct EngineRow
{
	const char *name;
	int64		members;		/* of the customers evaluated */
	int64		entered;
	int64		exited;
} EngineRow;

/*
 * Evaluates the segments `ids`, each after the segments it reads, for every
 * customer (keys NULL) or for the given customer keys (text[], canonical
 * text form), applies the entries and exits, logs them with `cause` and
 * announces them at commit.  Evaluating everyone records the refresh on
 * each segment.  Returns EngineRow pointers, sorted by name within each
 * evaluation.  The caller is connected to SPI and holds the segments' locks.
 */
extern List *engine_apply(Catalog *cat, List *ids, Datum as_of, const char *cause,
						  ArrayType *keys);

/* The ids in an int4[] (which must have no NULLs), as an integer List. */
extern List *int_array_to_list(ArrayType *array);

#endif							/* SEGMENT_REFRESH_H */
