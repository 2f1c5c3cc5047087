/*
 * compile_internal.h: the compiler's state, shared by compile.c (rules to
 * SQL) and compile_store.c (the clock's store of features).
 */
#ifndef SEGMENT_COMPILE_INTERNAL_H
#define SEGMENT_COMPILE_INTERNAL_H

#include "compile.h"

/* The three feature sources, joined to customers as fo, fi and fe. */
typedef enum FeatureSource
{
	FS_ORDERS,
	FS_ITEMS,
	FS_EVENTS,
	FS_COUNT
} FeatureSource;

extern const char *const feature_alias[FS_COUNT];

struct Compiler
{
	Catalog    *cat;
	List	   *features[FS_COUNT]; /* aggregate SQL, position = column number */
	/* each feature as its aggregate call and FILTER condition (NULL for none) */
	List	   *calls[FS_COUNT];
	List	   *filters[FS_COUNT];
	/*
	 * int: how many elements the clock's store keeps a feature in.  1 for
	 * count(*) or a sum of exact numbers, which rows add up to; K > 1 for
	 * order_months(), as counts of rows per calendar month modulo K; 0 for
	 * what rows do not add up to (max(), avg(), ...), which is not kept.
	 */
	List	   *store_width[FS_COUNT];
	/* the FILTER conditions of a source's aggregates, and whether one has none */
	List	   *row_filters[FS_COUNT];
	bool		unfiltered[FS_COUNT];
	bool		need_points;
	bool		need_rfm;
	/* what in_segment(), tagged() and in_group() look up, joined as fm, ft, fg */
	List	   *member_of;		/* segment ids */
	/* segments of this evaluation, read as their predicates instead */
	List	   *inline_ids;
	List	   *inline_sql;
	List	   *tags;
	List	   *groups;
	/* what the clock can change, for segment.tick() */
	List	   *edges[FS_COUNT];	/* intervals (SQL) at which windows end */
	/*
	 * The row conditions of a source's features without their windows
	 * (kinds and filters, SQL), and whether some feature has none: a row
	 * meeting no condition counts in no window, and cannot move a feature.
	 */
	List	   *row_conditions[FS_COUNT];
	bool		unconditioned[FS_COUNT];
	List	   *age_columns;	/* customer date columns read by age() */
	bool		clock_unbounded;	/* a clock effect we cannot narrow down */
	/* the parameter windows end at: "$1", or "$2" for the store's old time */
	const char *as_of;
	/* RFM's values, output beside the memberships (NULL when not asked for) */
	char	   *rfm_last;
	char	   *rfm_frequency;
	char	   *rfm_monetary;
	/* features read from segment.clock_features: each one's element there */
	bool		from_store;
	List	   *store_place[FS_COUNT];	/* int, 1-based */
	/*
	 * A rule's atoms, for telling whether a move of the store can change it
	 * (compile_store.c): the comparisons that read stored features and
	 * nothing else but constants, with each feature written as its element
	 * of the store's row flip_row, less the move's delta flip_delta when
	 * that is set.  flip_mixed: a comparison reads a feature and something
	 * else; flip_unkept: a feature the store does not keep.
	 */
	StoreLayout *flip_layout;
	const char *flip_row;
	const char *flip_delta;
	List	   *atoms;
	uint64		flip_moved[FS_COUNT];	/* the elements they read, as _counts_moved() bits */
	bool		flip_mixed;
	bool		flip_unkept;
	int			leaf_features;	/* features and other operands read so far */
	int			leaf_others;
	/* the rule being added */
	const char *text;
	const char *segment;
	RuleDeps   *deps;
};

/* compile.c */
extern Compiler *compile_pass_at(Catalog *cat, List *ordered_ids, bool all, const char *as_of,
								 List **segment_ids, List **predicates);
extern const char *feature_customer(Compiler *cx, FeatureSource fs);
extern const char *feature_time(Compiler *cx, FeatureSource fs);
extern void append_feature_from(Compiler *cx, StringInfo buf, FeatureSource fs);
extern const char *customer_key_type(Compiler *cx);
extern char *month_slot_sql(const char *time_col, int64 slots);
extern char *window_bound(const char *time, const char *interval);
extern void append_edge_band(StringInfo buf, const char *time_col, List *edges);
extern void append_row_conditions(Compiler *cx, StringInfo buf, FeatureSource fs);

/* compile_store.c */
extern char *store_element_sql(Compiler *cx, FeatureSource fs, const char *aggregate, int width);

/*
 * Appends a feature as the store keeps it: element place of the row's
 * array of fs (its months as a bitmask when width > 1), less the same
 * element of the array prefixed delta (as "d." for d.fo) when that is set.
 */
extern void append_store_element(StringInfo buf, const char *row, const char *delta, FeatureSource fs,
								 int place, int width);

#endif							/* SEGMENT_COMPILE_INTERNAL_H */
