/*
 * exact_units.h: amounts aggregated as int8 counts of their smallest unit.
 */
#ifndef SEGMENT_EXACT_UNITS_H
#define SEGMENT_EXACT_UNITS_H

/*
 * The scale s of a numeric(p, s) column, p <= 18 and 0 <= s <= 18, whose
 * values are whole numbers of 10^-s below 10^18 in size; -1 for any other
 * column (plain numeric, integers, floats), which is aggregated as it is.
 */
extern int	exact_units_scale(Oid relid, const char *column);

/*
 * SQL: expr (of such a column) in units of 10^-scale, as int8, times the
 * integer expression `times` unless it is NULL.
 */
extern char *exact_units_sql(const char *expr, int scale, const char *times);

/*
 * The aggregate that sums units: its state is a bigint in the group itself,
 * where sum(bigint) keeps a wider one allocated apart.
 */
#define UNITS_SUM_AGGREGATE "segment._sum_units"

/* SQL: an aggregate of units back in the column's own terms, as numeric. */
extern char *from_units_sql(const char *expr, int scale);

/*
 * A decimal number (a rule's literal) in units of 10^-scale, as the text of
 * an int8; NULL unless it is a whole number of units within int8's range.
 */
extern char *exact_units_literal(const char *number, int scale);

#endif
