/*
 * stored_membership.c: the stored membership of a pass's segments, read
 * once into a hash table by customer, for an evaluation of every customer
 * (or of most, by key) to compare against (refresh.c).
 *
 * Joining the evaluation with membership grouped per customer in SQL made
 * an array per customer and a hash join over them, and read membership by
 * its primary key in customer order (with a heap fetch for most rows after
 * a refresh wrote them): about 2.4 of 22.6 s of a refresh at a million
 * customers.  Here membership is read as it lies, each customer's segments
 * kept as bits of the pass's segments.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "kept.h"
#include "miscadmin.h"
#include "stored_membership.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

typedef struct StoredKey
{
	const char *data;			/* a customer's key, not terminated */
	uint32		len;
} StoredKey;

typedef struct StoredEntry
{
	StoredKey	key;
	uint32		hash;
	char		status;			/* simplehash's */
	bool		seen;			/* given by the evaluation */
	union
	{
		uint64		word;		/* a pass of up to 64 segments */
		uint64	   *words;		/* more */
	}			bits;			/* by the segment's place in the pass */
} StoredEntry;

#define SH_PREFIX stored
#define SH_ELEMENT_TYPE StoredEntry
#define SH_KEY_TYPE StoredKey
#define SH_KEY key
#define SH_HASH_KEY(tb, k) hash_bytes((const unsigned char *) (k).data, (k).len)
#define SH_EQUAL(tb, a, b) ((a).len == (b).len && memcmp((a).data, (b).data, (a).len) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, e) ((e)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* A segment's place in the pass, found by id. */
typedef struct Place
{
	int32		id;
	int			place;
} Place;

struct StoredMembership
{
	MemoryContext context;
	stored_hash *table;
	int			nwords;			/* of bits per customer */
	const int32 *ids;			/* the pass's segments, by place */
	int			nids;
	Place	   *places;			/* sorted by id */
	char	   *arena;			/* where the next key is copied */
	Size		arena_left;
};

/* Keys are copied one after the other into blocks of this size. */
#define KEY_BLOCK_SIZE (64 * 1024)

static const char *
copy_key(StoredMembership *sm, StoredKey key)
{
	char	   *copy;

	if (key.len == 0)
		return "";
	if (key.len > sm->arena_left)
	{
		sm->arena_left = Max(KEY_BLOCK_SIZE, key.len);
		sm->arena = MemoryContextAlloc(sm->context, sm->arena_left);
	}
	copy = sm->arena;
	memcpy(copy, key.data, key.len);
	sm->arena += key.len;
	sm->arena_left -= key.len;
	return copy;
}

typedef struct StoredReceiver
{
	DestReceiver pub;
	StoredMembership *sm;
} StoredReceiver;

static int
compare_places(const void *a, const void *b)
{
	int32		x = ((const Place *) a)->id;
	int32		y = ((const Place *) b)->id;

	return (x > y) - (x < y);
}

static uint64 *
entry_words(StoredMembership *sm, StoredEntry *e)
{
	return sm->nwords == 1 ? &e->bits.word : e->bits.words;
}

/* The customer's key as the hash table sees it; *detoasted to free, or NULL. */
static StoredKey
key_of(Datum cid, text **detoasted)
{
	text	   *t = DatumGetTextPP(cid);

	*detoasted = (Pointer) t != DatumGetPointer(cid) ? t : NULL;
	return (StoredKey) {VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)};
}

/* One stored (customer, segment): the customer's bit for the segment. */
static bool
receiver_receive(TupleTableSlot *slot, DestReceiver *self)
{
	StoredMembership *sm = ((StoredReceiver *) self)->sm;
	bool		isnull;
	Datum		cid = slot_getattr(slot, 1, &isnull);
	Place		probe = {DatumGetInt32(slot_getattr(slot, 2, &isnull)), 0};
	Place	   *found_place = bsearch(&probe, sm->places, sm->nids, sizeof(Place), compare_places);
	text	   *detoasted;
	StoredKey	key = key_of(cid, &detoasted);
	StoredEntry *e;
	bool		found;

	if (found_place == NULL)
		elog(ERROR, "membership of segment %d, which is not in the pass", probe.id);
	e = stored_insert(sm->table, key, &found);
	if (!found)
	{
		e->key.data = copy_key(sm, key);
		e->seen = false;
		if (sm->nwords == 1)
			e->bits.word = 0;
		else
			e->bits.words = MemoryContextAllocZero(sm->context, sizeof(uint64) * sm->nwords);
	}
	entry_words(sm, e)[found_place->place / 64] |= UINT64CONST(1) << (found_place->place % 64);
	if (detoasted)
		pfree(detoasted);
	return true;
}

static void
receiver_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
receiver_shutdown(DestReceiver *self)
{
}

static void
receiver_destroy(DestReceiver *self)
{
}

/*
 * The stored membership of the pass's segments: ids[0..nids) in the pass's
 * order, id_array the same as an int4[]; of the customers in keys (text[]),
 * or of all when keys is NULL.  Runs in the caller's snapshot; lives in a
 * child of the current memory context.
 */
StoredMembership *
stored_membership_read(const int32 *ids, int nids, Datum id_array, ArrayType *keys)
{
	static SPIPlanPtr plan_all = NULL;
	static SPIPlanPtr plan_keys = NULL;
	static Oid	types[2] = {INT4ARRAYOID, TEXTARRAYOID};
	StoredMembership *sm = palloc0(sizeof(StoredMembership));
	StoredReceiver receiver = {{0}};
	SPIExecuteOptions options = {0};
	Datum		values[2] = {id_array, PointerGetDatum(keys)};
	bool		nulls[2] = {false, false};
	SPIPlanPtr	plan;
	int			ret;

	sm->context = AllocSetContextCreate(CurrentMemoryContext, "segment stored membership",
										ALLOCSET_DEFAULT_SIZES);
	sm->table = stored_create(sm->context, 1024, NULL);
	sm->nwords = (nids + 63) / 64;
	sm->ids = ids;
	sm->nids = nids;
	sm->places = palloc(sizeof(Place) * Max(nids, 1));
	for (int i = 0; i < nids; i++)
		sm->places[i] = (Place) {ids[i], i};
	qsort(sm->places, nids, sizeof(Place), compare_places);

	receiver.pub.receiveSlot = receiver_receive;
	receiver.pub.rStartup = receiver_startup;
	receiver.pub.rShutdown = receiver_shutdown;
	receiver.pub.rDestroy = receiver_destroy;
	receiver.pub.mydest = DestNone;
	receiver.sm = sm;
	if (keys == NULL)
		plan = kept_plan(&plan_all, "SELECT m.customer_id, m.segment_id FROM segment.membership m"
						 " WHERE m.segment_id = ANY ($1)", 1, types, 0);
	else						/* planned for the keys given: most customers */
		plan = kept_plan(&plan_keys, "SELECT m.customer_id, m.segment_id FROM segment.membership m"
						 " WHERE m.segment_id = ANY ($1) AND m.customer_id = ANY ($2)", 2, types,
						 CURSOR_OPT_CUSTOM_PLAN);
	options.params = kept_params(values, nulls, keys ? 2 : 1, types);
	options.read_only = true;
	options.dest = &receiver.pub;
	ret = SPI_execute_plan_extended(plan, &options);
	if (ret != SPI_OK_SELECT && ret != SPI_OK_UTILITY)
		elog(ERROR, "reading stored membership failed: %s", SPI_result_code_string(ret));
	return sm;
}

/* The segment ids whose bits are set, in the pass's order; how many. */
static int
ids_of(StoredMembership *sm, StoredEntry *e, int32 *sids)
{
	uint64	   *words = entry_words(sm, e);
	int			n = 0;

	for (int i = 0; i < sm->nids; i++)
		if (words[i / 64] & (UINT64CONST(1) << (i % 64)))
			sids[n++] = sm->ids[i];
	return n;
}

/*
 * The segments a customer is stored in, into sids (room for the pass's
 * segments); how many.  The customer is marked seen.
 */
int
stored_membership_take(StoredMembership *sm, Datum cid, int32 *sids)
{
	text	   *detoasted;
	StoredEntry *e = stored_lookup(sm->table, key_of(cid, &detoasted));

	if (detoasted)
		pfree(detoasted);
	if (e == NULL)
		return 0;
	e->seen = true;
	return ids_of(sm, e, sids);
}

/* Each stored customer not seen, with its segments. */
void
stored_membership_unseen(StoredMembership *sm, StoredUnseenFn fn, void *arg)
{
	MemoryContext each = AllocSetContextCreate(CurrentMemoryContext, "segment unseen customer",
											   ALLOCSET_SMALL_SIZES);
	int32	   *sids = palloc(sizeof(int32) * Max(sm->nids, 1));
	stored_iterator it;
	StoredEntry *e;

	stored_start_iterate(sm->table, &it);
	while ((e = stored_iterate(sm->table, &it)) != NULL)
	{
		MemoryContext old;
		int			n;

		CHECK_FOR_INTERRUPTS();
		if (e->seen)
			continue;
		n = ids_of(sm, e, sids);
		old = MemoryContextSwitchTo(each);
		fn(arg, PointerGetDatum(cstring_to_text_with_len(e->key.data, e->key.len)), sids, n);
		MemoryContextSwitchTo(old);
		MemoryContextReset(each);
	}
	MemoryContextDelete(each);
	pfree(sids);
}

void
stored_membership_free(StoredMembership *sm)
{
	MemoryContextDelete(sm->context);
	pfree(sm->places);
	pfree(sm);
}
