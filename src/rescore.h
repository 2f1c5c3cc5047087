/*
 * rescore.h: rescoring a few customers' RFM scores with the cut points of
 * the last segment.rfm_refresh(), as their orders change.
 */
#ifndef SEGMENT_RESCORE_H
#define SEGMENT_RESCORE_H

#include "catalog.h"
#include "refresh.h"
#include "utils/array.h"

/* Whether there are cut points to rescore with; connected to SPI. */
extern bool rfm_rescore_ready(Catalog *cat);

/*
 * Rescores the customers `keys` (text[], canonical text form) as of as_of;
 * returns how many have a score.  The caller is connected to SPI and holds
 * ROW EXCLUSIVE on segment.customer_rfm (see rfm_lock_scores()), taken
 * before `cat` was read, so that a refresh's new cut points are seen.
 */
extern int64 rfm_rescore_keys(Catalog *cat, ArrayType *keys, Datum as_of);

/*
 * What an evaluation of customers aggregates to rescore them after
 * (refresh.h), for the catalog's cut points; NULL when there are none.
 */
extern const RfmAggregates *rfm_aggregates(Catalog *cat);

/*
 * rfm_rescore_keys() from the values an evaluation of the customers `keys`
 * aggregated; those it did not meet are rescored from their orders.
 */
extern int64 rfm_rescore_given(Catalog *cat, ArrayType *keys, RfmValues *given, Datum as_of);

/* Waits for a running segment.rfm_refresh(), and keeps the next one out. */
extern void rfm_lock_scores(void);

#endif							/* SEGMENT_RESCORE_H */
