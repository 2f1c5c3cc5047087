/*
 * exact_units.c: amounts aggregated as int8 counts of their smallest unit
 * (exact_units.h).
 *
 * Order totals and prices are numeric(p, s).  Summed as numeric, each
 * customer's group keeps a palloc'd accumulator, and max() a copy of the
 * largest value: at a million customers these no longer fit in any cache,
 * and every row waits on memory to reach them.  A numeric(p, s) value with
 * p <= 18 is a whole number of units of 10^-s below 10^18, so as int8 it is
 * exact, and int8's max() and min() keep a machine word per group, its
 * sum() a small fixed state.  Measured at a million customers, alternating:
 * the evaluation of the benchmark's 18 segments 33.5-35.9 s as numeric,
 * 28.9-33.0 s as units; RFM's values 8.4-10.2 s and 7.7-8.1 s.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "exact_units.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

PG_FUNCTION_INFO_V1(segment_exact_units);
PG_FUNCTION_INFO_V1(segment_units_add);
PG_FUNCTION_INFO_V1(segment_amount_sum_sql);

/* int8 holds every whole number below 10^18 */
#define UNITS_MAX_DIGITS 18

int
exact_units_scale(Oid relid, const char *column)
{
	AttrNumber	attnum = get_attnum(relid, column);
	Oid			type;
	int32		typmod;
	Oid			collation;
	int			precision;
	int			scale;

	if (attnum == InvalidAttrNumber)
		return -1;
	get_atttypetypmodcoll(relid, attnum, &type, &typmod, &collation);
	type = getBaseTypeAndTypmod(type, &typmod);
	if (type != NUMERICOID || typmod < (int32) VARHDRSZ)
		return -1;
	/* numeric's typmod: precision in the high 16 bits; a negative scale
	 * (PostgreSQL 15) has the low ones above any precision allowed here */
	precision = ((typmod - VARHDRSZ) >> 16) & 0xffff;
	scale = (typmod - VARHDRSZ) & 0xffff;
	if (precision > UNITS_MAX_DIGITS || scale > UNITS_MAX_DIGITS)
		return -1;
	return scale;
}

char *
exact_units_sql(const char *expr, int scale, const char *times)
{
	if (times == NULL)
		return psprintf("segment._exact_units(%s, %d)", expr, scale);
	return psprintf("segment._exact_units(%s, %d, (%s)::pg_catalog.int8)", expr, scale, times);
}

char *
from_units_sql(const char *expr, int scale)
{
	if (scale == 0)
		return psprintf("(%s)::pg_catalog.numeric", expr);
	/* exact: a product keeps every digit, and 1e-2 is 0.01 with scale 2 */
	return psprintf("((%s)::pg_catalog.numeric * 1e-%d)", expr, scale);
}

/* 10^scale as numeric, kept per call site, where the scale is a constant. */
typedef struct UnitCache
{
	int32		scale;
	Numeric		unit;
} UnitCache;

static Numeric
unit_of(FunctionCallInfo fcinfo, int32 scale)
{
	UnitCache  *cache = fcinfo->flinfo->fn_extra;
	MemoryContext old;
	int64		unit = 1;

	if (cache != NULL && cache->scale == scale)
		return cache->unit;
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	if (cache == NULL)
		cache = fcinfo->flinfo->fn_extra = palloc(sizeof(UnitCache));
	else
		pfree(cache->unit);
	for (int i = 0; i < scale; i++)
		unit *= 10;
	cache->scale = scale;
	cache->unit = int64_to_numeric(unit);
	MemoryContextSwitchTo(old);
	return cache->unit;
}

static char *
amount_text(Numeric value)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(value)));
}

/*
 * numeric's on-disk short format (numeric.c): a 2-byte header, then base
 * 10000 digits, most significant first.  Values with a weight in [-64, 63]
 * and at most 63 decimals use it: every amount a numeric(p <= 18, s)
 * column holds.  The format is fixed on disk (pg_upgrade keeps data files).
 */
#define SHORT_FORMAT_MASK		0xC000	/* 10: short; 11: NaN or infinity; 0x: long */
#define SHORT_FORMAT			0x8000
#define SHORT_NEGATIVE			0x2000
#define SHORT_WEIGHT_NEGATIVE	0x0040
#define SHORT_WEIGHT_BITS		0x003F
#define DIGITS_PER_WORD			4		/* decimal digits in one base 10000 digit */

static const int64 powers_of_ten[] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
	INT64CONST(10000000000), INT64CONST(100000000000), INT64CONST(1000000000000),
	INT64CONST(10000000000000), INT64CONST(100000000000000), INT64CONST(1000000000000000),
	INT64CONST(10000000000000000), INT64CONST(100000000000000000), INT64CONST(1000000000000000000)
};

/*
 * value * 10^scale read straight from the short format's digits, with no
 * numeric arithmetic or allocation: most of the cost of summing amounts
 * (187 ns a value through numeric_mul() and numeric_int8(), measured over
 * 10 million order totals).  False for anything else (the long format,
 * NaN, infinity, a fraction of a unit, more than int8 holds): the general
 * path then gives the same answer or error as it always did.
 */
static bool
units_from_short_format(struct varlena *packed, int32 scale, int64 *units)
{
	const char *data = VARDATA_ANY(packed);
	int			size = VARSIZE_ANY_EXHDR(packed);
	int			ndigits = (size - (int) sizeof(uint16)) / (int) sizeof(int16);
	uint16		header;
	int			weight;
	int			exponent;		/* of ten, of the last digit, in units */
	int64		digits = 0;

	if (size < (int) sizeof(uint16))
		return false;
	memcpy(&header, data, sizeof(header));
	if ((header & SHORT_FORMAT_MASK) != SHORT_FORMAT)
		return false;
	if (ndigits == 0)
	{
		*units = 0;
		return true;
	}
	weight = (header & SHORT_WEIGHT_NEGATIVE ? ~SHORT_WEIGHT_BITS : 0) | (header & SHORT_WEIGHT_BITS);
	exponent = DIGITS_PER_WORD * (weight - ndigits + 1) + scale;
	/* stored digits end with a nonzero one: below 10^-3 of a unit it is a fraction */
	if (exponent <= -DIGITS_PER_WORD || exponent >= (int) lengthof(powers_of_ten))
		return false;
	for (int i = 0; i < ndigits; i++)
	{
		int16		digit;

		memcpy(&digit, data + sizeof(uint16) + i * sizeof(int16), sizeof(digit));
		if (pg_mul_s64_overflow(digits, 10000, &digits) ||
			pg_add_s64_overflow(digits, digit, &digits))
			return false;
	}
	if (exponent < 0)
	{
		if (digits % powers_of_ten[-exponent] != 0)
			return false;
		digits /= powers_of_ten[-exponent];
	}
	else if (pg_mul_s64_overflow(digits, powers_of_ten[exponent], &digits))
		return false;
	*units = header & SHORT_NEGATIVE ? -digits : digits;
	return true;
}

char *
exact_units_literal(const char *number, int scale)
{
	Datum		value = DirectFunctionCall3(numeric_in, CStringGetDatum(number),
											ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	int64		units;

	if (!units_from_short_format((struct varlena *) DatumGetPointer(value), scale, &units))
		return NULL;
	return psprintf(INT64_FORMAT, units);
}

/*
 * segment._exact_units(value numeric, scale int4 [, times int8]) -> int8:
 * value * 10^scale * times.  NaN, infinity, a fraction of a unit and a
 * product past int8 are errors: they have no exact sum in units.
 */
Datum
segment_exact_units(PG_FUNCTION_ARGS)
{
	int32		scale = PG_GETARG_INT32(1);
	int64		times = PG_NARGS() > 2 ? PG_GETARG_INT64(2) : 1;
	int64		units = 0;
	int64		product;
	bool		overflow = false;
	Numeric		value;
	Numeric		scaled;

	if (scale < 0 || scale > UNITS_MAX_DIGITS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("scale %d is out of range for exact units", scale),
				 errdetail("The scale must be between 0 and %d.", UNITS_MAX_DIGITS)));
	if (units_from_short_format(PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0)), scale, &units) &&
		!pg_mul_s64_overflow(units, times, &product))
		PG_RETURN_INT64(product);

	value = PG_GETARG_NUMERIC(0);
	if (numeric_is_nan(value) || numeric_is_inf(value))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("cannot sum the amount %s exactly", amount_text(value)),
				 errhint("Sums of amounts are exact; correct the row, or track an amount column "
						 "that holds only numbers.")));
	scaled = numeric_mul_opt_error(value, unit_of(fcinfo, scale), &overflow);
	/* digits past the scale (the column's type changed under a compiled
	 * rule, or a direct call) must be zeros: never round an amount */
	if (!overflow &&
		DatumGetInt32(DirectFunctionCall1(numeric_scale, NumericGetDatum(value))) > scale &&
		!DatumGetBool(DirectFunctionCall2(numeric_eq, NumericGetDatum(scaled),
										  DirectFunctionCall2(numeric_trunc, NumericGetDatum(scaled),
															  Int32GetDatum(0)))))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("amount %s has more than %d decimals, which cannot be summed as whole units",
						amount_text(value), scale)));
	/* past int8, numeric_int8() would fail without naming the amount */
	overflow = overflow ||
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(scaled),
										  NumericGetDatum(int64_to_numeric(PG_INT64_MAX)))) > 0 ||
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(scaled),
										  NumericGetDatum(int64_to_numeric(PG_INT64_MIN)))) < 0;
	if (!overflow)
		units = DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(scaled)));
	if (overflow || pg_mul_s64_overflow(units, times, &product))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 times == 1 ?
				 errmsg("amount %s is out of range for an exact sum", amount_text(value)) :
				 errmsg("amount %s times %lld is out of range for an exact sum",
						amount_text(value), (long long) times),
				 errdetail("Amounts are summed as whole units of 10^-%d up to 9.2 * 10^18 of them.",
						   scale)));
	PG_RETURN_INT64(product);
}

/*
 * segment._units_add(a int8, b int8) -> int8: segment._sum_units()'s step
 * and combining function.  sum(int8) keeps a 128-bit state allocated apart
 * for each group, one more cache miss a row when a million customers are
 * grouped (its accumulator was a tenth of the orders' aggregation in
 * `perf`); this state is the group's own word.
 */
Datum
segment_units_add(PG_FUNCTION_ARGS)
{
	int64		sum;

	if (pg_add_s64_overflow(PG_GETARG_INT64(0), PG_GETARG_INT64(1), &sum))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("a sum of amounts is out of range for an exact sum"),
				 errdetail("Amounts are summed as whole units of their column's scale, "
						   "up to 9.2 * 10^18 of them.")));
	PG_RETURN_INT64(sum);
}

/*
 * segment._amount_sum_sql(relation regclass, column_name text, expr text,
 * filter text) -> text: SQL summing expr, the column's amount, with the
 * FILTER clause given ('' for none), in units where the column allows, as
 * numeric; for the SQL that builds RFM's values.
 */
Datum
segment_amount_sum_sql(PG_FUNCTION_ARGS)
{
	int			scale = exact_units_scale(PG_GETARG_OID(0), text_to_cstring(PG_GETARG_TEXT_PP(1)));
	char	   *expr = text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *filter = text_to_cstring(PG_GETARG_TEXT_PP(3));
	char	   *sum;

	if (scale < 0)
		sum = psprintf("sum(%s)%s", expr, filter);
	else
		sum = from_units_sql(psprintf(UNITS_SUM_AGGREGATE "(%s)%s", exact_units_sql(expr, scale, NULL),
									  filter), scale);
	PG_RETURN_TEXT_P(cstring_to_text(sum));
}
