/*
 * clock_store.h: the clock's store of features, segment.clock_features.
 *
 * Counts and sums per customer, kept as of the time in segment.clock_store,
 * so that tick() moves them by the rows near window edges instead of
 * aggregating whole histories (the SQL is compile_store.c's).  A missing
 * row means every feature is 0; a stale row, one the store's data changed
 * under, is built again before it is read.
 */
#ifndef SEGMENT_CLOCK_STORE_H
#define SEGMENT_CLOCK_STORE_H

#include "catalog.h"
#include "compile.h"
#include "utils/array.h"
#include "utils/timestamp.h"

/* The layout of the store for this catalog; NULL when nothing is stored. */
extern StoreLayout *clock_store_layout(Catalog *cat);

/* Whether the store holds this catalog's features as of as_of. */
extern bool clock_store_current(Catalog *cat, Datum as_of);

/* Builds again the stale rows of the given customers (text[] keys), as of as_of. */
extern void clock_store_freshen(Catalog *cat, ArrayType *keys, Datum as_of);

/*
 * Marks the customers' rows stale after a change to their data, unless
 * every changed row is stamped after the store's time (earliest, or
 * DT_NOBEGIN when not known), which the store does not count yet.
 */
extern void clock_store_invalidate(ArrayType *keys, TimestampTz earliest);

/* Drops the store, to be built again: a source was truncated. */
extern void clock_store_drop(void);

#endif							/* SEGMENT_CLOCK_STORE_H */
