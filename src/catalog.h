/*
 * catalog.h: what the store told us about its tables (segment.sources) and
 * the segments defined so far, loaded through SPI for one compilation.
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

typedef struct SegmentEntry
{
	int32		id;
	char	   *name;
	char	   *tag;			/* tag kept on members, or NULL */
	char	   *rule;			/* canonical rule text */
} SegmentEntry;

typedef struct Catalog
{
	Source		src[SRC_COUNT];
	List	   *segments;		/* SegmentEntry pointers */
	List	   *groups;			/* group names (char *) */
} Catalog;

extern const char *source_kind_name(SourceKind kind);
extern const char *source_track_function(SourceKind kind);

/* Loads everything; the caller must be connected to SPI. */
extern Catalog *catalog_load(void);
extern SegmentEntry *catalog_find_segment(Catalog *cat, const char *name);
extern SegmentEntry *catalog_find_segment_id(Catalog *cat, int32 id);

#endif							/* SEGMENT_CATALOG_H */
