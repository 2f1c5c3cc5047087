/*
 * rfm.c: the rfm type, three scores R, F and M, each from 1 to 9.
 *
 * A score is stored as the int16 100 * R + 10 * F + M, so that the integer
 * order is the order by R, then F, then M, and the cast to int is the value
 * itself.  The type knows only that each score is a digit from 1 to 9: its
 * input function is immutable and cannot read the configured number of bins,
 * which segment.rfm_check() and segment.rfm_label() compare with.
 */
#include "postgres.h"

#include <ctype.h>

#include "common/hashfn.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#define RFM_MIN_SCORE	1
#define RFM_MAX_SCORE	9

#define DatumGetRfm(X)		DatumGetInt16(X)
#define RfmGetDatum(X)		Int16GetDatum(X)
#define PG_GETARG_RFM(n)	DatumGetRfm(PG_GETARG_DATUM(n))
#define PG_RETURN_RFM(x)	return RfmGetDatum(x)

typedef int16 Rfm;

static const char *const score_names[3] = {"R", "F", "M"};

static inline Rfm
MakeRfm(int r, int f, int m)
{
	return (Rfm) (r * 100 + f * 10 + m);
}

static inline int
RfmPart(Rfm rfm, int part)
{
	switch (part)
	{
		case 0:
			return rfm / 100;
		case 1:
			return (rfm / 10) % 10;
		default:
			return rfm % 10;
	}
}

static inline bool
ScoreInRange(int score)
{
	return score >= RFM_MIN_SCORE && score <= RFM_MAX_SCORE;
}

/* The hint every text-input error ends with: what a valid score looks like. */
#define RFM_INPUT_HINT \
	"Write three scores from 1 to 9, such as \"543\" or \"5-4-3\"."

static void
ReportBadInput(const char *input, const char *detail)
{
	ereport(ERROR,
			errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			errmsg("invalid rfm score \"%s\"", input),
			errdetail_internal("%s", detail),
			errhint(RFM_INPUT_HINT));
}

/*
 * Parses "543" or "5-4-3", with optional surrounding white space, into the
 * three digits; every error names what is wrong with the input.
 */
static Rfm
ParseRfm(const char *input)
{
	const char *start = input;
	const char *end;
	int			digits[3];
	int			ndigits = 0;
	int			nparts = 1;
	int			part_len = 0;
	bool		dashed = false;

	while (*start && isspace((unsigned char) *start))
		start++;
	end = start + strlen(start);
	while (end > start && isspace((unsigned char) end[-1]))
		end--;

	if (start == end)
		ReportBadInput(input, _("The input is empty."));
	dashed = memchr(start, '-', end - start) != NULL;

	for (const char *p = start; p < end; p++)
	{
		if (*p == '-')
		{
			if (part_len == 0)
				ReportBadInput(input, _("A score is missing before a \"-\"."));
			nparts++;
			part_len = 0;
			continue;
		}
		if (!isdigit((unsigned char) *p))
			ReportBadInput(input, psprintf(_("\"%.*s\" is neither a digit nor \"-\"."),
										   pg_mblen(p), p));
		if (dashed && part_len > 0)
			ReportBadInput(input, _("Between the \"-\" signs each score is a single digit."));
		if (ndigits < 3)
			digits[ndigits] = *p - '0';
		ndigits++;
		part_len++;
	}

	if (dashed)
	{
		if (part_len == 0)
			ReportBadInput(input, _("A score is missing after the last \"-\"."));
		if (nparts != 3)
			ReportBadInput(input, psprintf(_("It has %d scores, but an rfm score has three: R, F and M."),
										   nparts));
	}
	else if (ndigits != 3)
		ReportBadInput(input, psprintf(_("It has %d digits, but an rfm score has three: R, F and M."),
									   ndigits));

	for (int i = 0; i < 3; i++)
		if (!ScoreInRange(digits[i]))
			ReportBadInput(input, psprintf(_("%s is %d, but each score runs from %d to %d."),
										   score_names[i], digits[i],
										   RFM_MIN_SCORE, RFM_MAX_SCORE));

	return MakeRfm(digits[0], digits[1], digits[2]);
}

/* Checks three scores given as numbers (constructor, binary input). */
static void
CheckScores(int r, int f, int m, int sqlstate, const char *what)
{
	int			scores[3] = {r, f, m};

	for (int i = 0; i < 3; i++)
		if (!ScoreInRange(scores[i]))
			ereport(ERROR,
					errcode(sqlstate),
					errmsg("%s", what),
					errdetail("%s is %d, but each score runs from %d to %d.",
							  score_names[i], scores[i], RFM_MIN_SCORE, RFM_MAX_SCORE));
}

PG_FUNCTION_INFO_V1(rfm_in);
Datum
rfm_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);

	PG_RETURN_RFM(ParseRfm(input));
}

PG_FUNCTION_INFO_V1(rfm_out);
Datum
rfm_out(PG_FUNCTION_ARGS)
{
	Rfm			rfm = PG_GETARG_RFM(0);

	PG_RETURN_CSTRING(psprintf("%d%d%d", RfmPart(rfm, 0), RfmPart(rfm, 1), RfmPart(rfm, 2)));
}

/* Binary form: three bytes, R, F and M; every byte is checked. */
PG_FUNCTION_INFO_V1(rfm_recv);
Datum
rfm_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			r = pq_getmsgbyte(buf);
	int			f = pq_getmsgbyte(buf);
	int			m = pq_getmsgbyte(buf);

	CheckScores(r, f, m, ERRCODE_INVALID_BINARY_REPRESENTATION,
				"invalid rfm score in binary input");
	PG_RETURN_RFM(MakeRfm(r, f, m));
}

PG_FUNCTION_INFO_V1(rfm_send);
Datum
rfm_send(PG_FUNCTION_ARGS)
{
	Rfm			rfm = PG_GETARG_RFM(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	for (int i = 0; i < 3; i++)
		pq_sendbyte(&buf, (uint8) RfmPart(rfm, i));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(rfm_make);
Datum
rfm_make(PG_FUNCTION_ARGS)
{
	int32		r = PG_GETARG_INT32(0);
	int32		f = PG_GETARG_INT32(1);
	int32		m = PG_GETARG_INT32(2);

	CheckScores(r, f, m, ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "rfm score out of range");
	PG_RETURN_RFM(MakeRfm(r, f, m));
}

PG_FUNCTION_INFO_V1(rfm_r);
Datum
rfm_r(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(RfmPart(PG_GETARG_RFM(0), 0));
}

PG_FUNCTION_INFO_V1(rfm_f);
Datum
rfm_f(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(RfmPart(PG_GETARG_RFM(0), 1));
}

PG_FUNCTION_INFO_V1(rfm_m);
Datum
rfm_m(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(RfmPart(PG_GETARG_RFM(0), 2));
}

PG_FUNCTION_INFO_V1(rfm_to_int);
Datum
rfm_to_int(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32((int32) PG_GETARG_RFM(0));
}

/* 543 -> '543'; the integer must be three digits, each from 1 to 9. */
PG_FUNCTION_INFO_V1(rfm_from_int);
Datum
rfm_from_int(PG_FUNCTION_ARGS)
{
	int32		value = PG_GETARG_INT32(0);

	if (value < 100 || value > 999)
		ereport(ERROR,
				errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				errmsg("integer %d is not an rfm score", value),
				errdetail("An rfm score as an integer has three digits, R, F and M, such as 543."));
	CheckScores(value / 100, (value / 10) % 10, value % 10,
				ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
				psprintf("integer %d is not an rfm score", value));
	PG_RETURN_RFM((Rfm) value);
}

/* Comparison: the stored integer orders by R, then F, then M. */
PG_FUNCTION_INFO_V1(rfm_cmp);
Datum
rfm_cmp(PG_FUNCTION_ARGS)
{
	Rfm			a = PG_GETARG_RFM(0);
	Rfm			b = PG_GETARG_RFM(1);

	PG_RETURN_INT32((a > b) - (a < b));
}

#define RFM_COMPARISON(name, op) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	PG_RETURN_BOOL(PG_GETARG_RFM(0) op PG_GETARG_RFM(1)); \
}

RFM_COMPARISON(rfm_eq, ==)
RFM_COMPARISON(rfm_ne, !=)
RFM_COMPARISON(rfm_lt, <)
RFM_COMPARISON(rfm_le, <=)
RFM_COMPARISON(rfm_gt, >)
RFM_COMPARISON(rfm_ge, >=)

PG_FUNCTION_INFO_V1(rfm_hash);
Datum
rfm_hash(PG_FUNCTION_ARGS)
{
	return hash_uint32((uint32) PG_GETARG_RFM(0));
}

PG_FUNCTION_INFO_V1(rfm_hash_extended);
Datum
rfm_hash_extended(PG_FUNCTION_ARGS)
{
	return hash_uint32_extended((uint32) PG_GETARG_RFM(0), PG_GETARG_INT64(1));
}
