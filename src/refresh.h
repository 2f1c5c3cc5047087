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
 * What a trigger's evaluation also aggregates for RFM, so that rescoring its
 * customers needs no pass over their orders of its own (rescore.c): the
 * window's condition on an order row o and two aggregate calls, as
 * compiler_add_rfm_values() takes them.
 */
typedef struct RfmAggregates
{
	const char *in_window;
	const char *last;
	const char *frequency;
} RfmAggregates;

/* RFM's raw values of every customer evaluated, in parallel arrays. */
typedef struct RfmValues
{
	int			n;
	int			size;			/* allocated */
	Datum	   *cids;			/* text */
	Datum	   *last;			/* timestamptz, NULL without an order in the window */
	bool	   *last_null;
	Datum	   *frequency;		/* int8 */
	Datum	   *monetary;		/* numeric */
	bool	   *monetary_null;
} RfmValues;

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

/*
 * The same for a trigger's customers `keys`, with cause 'data', the first
 * evaluation also aggregating rfm's values into *values (zeroed by the
 * caller), for every customer it evaluates: those of `keys` that are in
 * the customers table.  None of `ids` may read RFM scores, which are
 * rescored only after.
 */
extern List *engine_apply_with_rfm(Catalog *cat, List *ids, Datum as_of, ArrayType *keys,
								   const RfmAggregates *rfm, RfmValues *values);

/* The ids in an int4[] (which must have no NULLs), as an integer List. */
extern List *int_array_to_list(ArrayType *array);

#endif							/* SEGMENT_REFRESH_H */
