/*
 * catalog.h: what the store told us about its tables (segment.sources) and
 * the segments defined so far.
 *
 * Loaded through SPI and kept per backend, stamped with the version in
 * segment.catalog_version, which every change to sources, segments or
 * groups moves on (triggers in the install script).  A version is never
 * reused, rolled back or not, so the same version of the same table (it is
 * new if the extension is created again) means the same catalog, until a
 * tracked table's definition changes (a relcache invalidation), which makes
 * the next call load it again.  What
 * other modules derive from a catalog they keep by its generation, a number
 * this backend gives each catalog it loads.
 */
#ifndef SEGMENT_CATALOG_H
#define SEGMENT_CATALOG_H

#include "postgres.h"
#include "nodes/pg_list.h"

typedef enum SourceKind
{
	SRC_CUSTOMERS,
	SRC_ORDERS,
	SRC_ITEMS,
	SRC_PRODUCTS,
	SRC_EVENTS,
	SRC_COUNT
} SourceKind;

/* Column names are stored as names, never attribute numbers. */
typedef struct Source
{
	bool		present;
	Oid			relid;
	char	   *qualname;		/* quoted schema.table */
	char	   *key;			/* customers, orders, products: their key */
	char	   *customer;		/* orders, events: the customer reference */
	char	   *time;			/* orders, events */
	char	   *amount;			/* orders */
	char	   *order_ref;		/* order items */
	char	   *product_ref;	/* order items */
	char	   *quantity;		/* order items, optional */
	char	   *price;			/* order items, optional */
	char	   *kind;			/* events */
} Source;

typedef enum SegmentMode
{
	MODE_INCREMENTAL,
	MODE_SCHEDULED,
	MODE_MANUAL
} SegmentMode;

typedef struct SegmentEntry
{
	int32		id;
	char	   *name;
	char	   *tag;			/* tag kept on members, or NULL */
	char	   *rule;			/* canonical rule text */
	SegmentMode mode;
	bool		reads_source[SRC_COUNT];
	bool		reads_rfm;		/* rescored as orders change */
	List	   *reads;			/* ids of the segments it reads: in_segment(), kept tags */
} SegmentEntry;

typedef struct Catalog
{
	int64		generation;		/* never the same for two catalogs of a backend */
	Oid			version_table;	/* segment.catalog_version */
	int64		version;
	Source		src[SRC_COUNT];
	List	   *segments;		/* SegmentEntry pointers, by id */
	List	   *groups;			/* group names (char *) */
} Catalog;

extern const char *source_kind_name(SourceKind kind);
extern const char *source_track_function(SourceKind kind);
extern SourceKind source_kind_from_name(const char *name);

/*
 * The catalog as this transaction sees it now; the caller is connected to
 * SPI.  read_only as for SPI_execute: false takes a fresh snapshot, which a
 * trigger needs after waiting for a lock.  The result stays valid until the
 * end of the transaction, even if a later call finds a newer version.
 */
extern Catalog *catalog_current(bool read_only);

extern SegmentEntry *catalog_find_segment(Catalog *cat, const char *name);
extern SegmentEntry *catalog_find_segment_id(Catalog *cat, int32 id);

/*
 * The given segment ids and every segment that reads one of them, directly
 * or not, in id order; with maintained_only, only incremental segments.
 */
extern List *catalog_with_dependants(Catalog *cat, List *ids, bool maintained_only);

/*
 * The given segment ids ordered so that each comes after the segments it
 * reads; an error if they read each other in a loop.
 */
extern List *catalog_dependency_order(Catalog *cat, List *ids);

#endif							/* SEGMENT_CATALOG_H */
