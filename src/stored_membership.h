/*
 * stored_membership.h: a pass's stored membership, read once into memory
 * for an evaluation of every customer (or most) to compare against.
 */
#ifndef SEGMENT_STORED_MEMBERSHIP_H
#define SEGMENT_STORED_MEMBERSHIP_H

#include "postgres.h"
#include "utils/array.h"

typedef struct StoredMembership StoredMembership;

/* Called for each stored customer the evaluation did not give. */
typedef void (*StoredUnseenFn) (void *arg, Datum cid, const int32 *sids, int nsids);

extern StoredMembership *stored_membership_read(const int32 *ids, int nids, Datum id_array,
												 ArrayType *keys);
extern int	stored_membership_take(StoredMembership *sm, Datum cid, int32 *sids);
extern void stored_membership_unseen(StoredMembership *sm, StoredUnseenFn fn, void *arg);
extern void stored_membership_free(StoredMembership *sm);

#endif
