/*
 * local_time.c: the local hour and calendar month of a time, for rules'
 * hour() and for counting distinct months, and whole years between two
 * dates, for age().
 *
 * date_part() of a timestamptz looks up the session's time zone on every
 * call (pg_localtime(), about 70 ns), and a refresh asks it several times
 * for each of millions of orders.  Here the zone's offset is looked up once
 * for each stretch of time between two of its changes (daylight saving,
 * new laws), kept per call site in fn_extra, and applied by arithmetic.
 * The results are those of date_part() in the session's TimeZone.  Each
 * stretch is checked against pg_localtime() at both of its ends before it
 * is kept; should one ever not match (leap seconds would do it, though
 * PostgreSQL refuses such zones), the zone takes date_part()'s slow path.
 */
#include "postgres.h"

#include "fmgr.h"
#include "pgtime.h"
#include "utils/datetime.h"
#include "utils/date.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(segment_local_hour_tz);
PG_FUNCTION_INFO_V1(segment_local_hour_ts);
PG_FUNCTION_INFO_V1(segment_local_month_tz);
PG_FUNCTION_INFO_V1(segment_local_month_ts);
PG_FUNCTION_INFO_V1(segment_age_years);

/* Seconds from 1970-01-01 (pg_time_t's epoch) to 2000-01-01 (Timestamp's). */
#define EPOCH_SHIFT_SECS ((pg_time_t) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)

/* A stretch of UTC seconds [lo, hi) over which the zone's offset is gmtoff. */
typedef struct ZoneStretch
{
	pg_time_t	lo;
	pg_time_t	hi;
	long int	gmtoff;
} ZoneStretch;

#define ZONE_STRETCHES 8

typedef struct LocalTimeCache
{
	const pg_tz *tz;			/* the zone the stretches belong to */
	int			n;				/* stretches kept */
	int			next;			/* the one to replace when full */
	bool		slow;			/* the zone's offsets cannot be kept */
	ZoneStretch stretch[ZONE_STRETCHES];
} LocalTimeCache;

static LocalTimeCache *
local_time_cache(FunctionCallInfo fcinfo)
{
	LocalTimeCache *c = fcinfo->flinfo->fn_extra;

	if (c == NULL)
		c = fcinfo->flinfo->fn_extra =
			MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(LocalTimeCache));
	if (c->tz != session_timezone)	/* SET TimeZone since the last call */
	{
		c->tz = session_timezone;
		c->n = c->next = 0;
		c->slow = false;
	}
	return c;
}

/* Does t + gmtoff give pg_localtime()'s fields at UTC second t? */
static bool
offset_matches(pg_time_t t, long int gmtoff, const pg_tz *tz)
{
	struct pg_tm *lt = pg_localtime(&t, tz);
	struct pg_tm tm;
	fsec_t		fsec;

	if (lt == NULL || lt->tm_gmtoff != gmtoff)
		return false;
	if (timestamp2tm((Timestamp) (t + gmtoff - EPOCH_SHIFT_SECS) * USECS_PER_SEC,
					 NULL, &tm, &fsec, NULL, NULL) != 0)
		return false;
	return tm.tm_year == lt->tm_year + 1900 && tm.tm_mon == lt->tm_mon + 1 &&
		tm.tm_mday == lt->tm_mday && tm.tm_hour == lt->tm_hour &&
		tm.tm_min == lt->tm_min && tm.tm_sec == lt->tm_sec;
}

/*
 * The zone's offset at UTC second t, from a kept stretch or by finding the
 * stretch t lies in: from t to the zone's next change.  A stretch found
 * again from an earlier time is widened down to it, so a scan in any order
 * soon covers each stretch whole.  False when t's offset cannot be applied
 * by arithmetic.
 */
static bool
zone_offset(LocalTimeCache *c, pg_time_t t, long int *gmtoff)
{
	long int	before_gmtoff,
				after_gmtoff;
	int			before_isdst,
				after_isdst;
	pg_time_t	boundary;
	int			found;

	if (c->slow)
		return false;
	for (int i = 0; i < c->n; i++)
		if (t >= c->stretch[i].lo && t < c->stretch[i].hi)
		{
			*gmtoff = c->stretch[i].gmtoff;
			return true;
		}

	found = pg_next_dst_boundary(&t, &before_gmtoff, &before_isdst, &boundary,
								 &after_gmtoff, &after_isdst, c->tz);
	if (found == 0)				/* no change after t */
		boundary = PG_INT64_MAX;
	if (found < 0 || !offset_matches(t, before_gmtoff, c->tz) ||
		(found == 1 && !offset_matches(boundary - 1, before_gmtoff, c->tz)))
	{
		c->slow = true;
		return false;
	}

	*gmtoff = before_gmtoff;
	for (int i = 0; i < c->n; i++)
		if (c->stretch[i].hi == boundary)
		{
			c->stretch[i].lo = Min(c->stretch[i].lo, t);
			return true;
		}
	if (c->n < ZONE_STRETCHES)
		c->n++;
	c->stretch[c->next] = (ZoneStretch) {t, boundary, before_gmtoff};
	c->next = (c->next + 1) % ZONE_STRETCHES;
	return true;
}

/*
 * The fields of a timestamptz's local time in the session's zone, or of a
 * timestamp as it is.  False for infinite times, which have no hour or
 * month (date_part() gives NULL).
 */
static bool
local_fields(FunctionCallInfo fcinfo, bool with_zone, struct pg_tm *tm)
{
	Timestamp	ts = PG_GETARG_TIMESTAMP(0);
	fsec_t		fsec;
	int			tz;
	int		   *zone = NULL;	/* &tz: ask the session's zone, the slow path */

	if (TIMESTAMP_NOT_FINITE(ts))
		return false;
	if (with_zone)
	{
		LocalTimeCache *c = local_time_cache(fcinfo);
		/* whole seconds, rounded down as timestamp2tm() does */
		pg_time_t	secs = ts / USECS_PER_SEC - (ts % USECS_PER_SEC < 0) + EPOCH_SHIFT_SECS;
		long int	gmtoff;

		if (zone_offset(c, secs, &gmtoff))
			ts += (Timestamp) gmtoff * USECS_PER_SEC;
		else
			zone = &tz;
	}
	if (timestamp2tm(ts, zone, tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return true;
}

static Datum
local_hour(FunctionCallInfo fcinfo, bool with_zone)
{
	struct pg_tm tm;

	if (!local_fields(fcinfo, with_zone, &tm))
		PG_RETURN_NULL();
	PG_RETURN_INT32(tm.tm_hour);
}

/* The calendar month counted from year 0: year * 12 + month, as date_part() numbers them. */
static Datum
local_month(FunctionCallInfo fcinfo, bool with_zone)
{
	struct pg_tm tm;

	if (!local_fields(fcinfo, with_zone, &tm))
		PG_RETURN_NULL();
	/* date_part() numbers 1 BC as -1: there is no year 0 */
	PG_RETURN_INT32((tm.tm_year > 0 ? tm.tm_year : tm.tm_year - 1) * 12 + tm.tm_mon);
}

/* segment._local_hour(timestamptz | timestamp) returns integer: date_part('hour', t) */
Datum
segment_local_hour_tz(PG_FUNCTION_ARGS)
{
	return local_hour(fcinfo, true);
}

Datum
segment_local_hour_ts(PG_FUNCTION_ARGS)
{
	return local_hour(fcinfo, false);
}

/*
 * segment._local_month(timestamptz | timestamp) returns integer:
 * date_part('year', t) * 12 + date_part('month', t)
 */
Datum
segment_local_month_tz(PG_FUNCTION_ARGS)
{
	return local_month(fcinfo, true);
}

Datum
segment_local_month_ts(PG_FUNCTION_ARGS)
{
	return local_month(fcinfo, false);
}

/*
 * segment._age_years(at date, born date) returns integer: the whole years
 * from born to at, date_part('year', age(at, born)); negative when born is
 * later, as age() counts back.
 */
Datum
segment_age_years(PG_FUNCTION_ARGS)
{
	DateADT		at = PG_GETARG_DATEADT(0);
	DateADT		born = PG_GETARG_DATEADT(1);
	DateADT		from = Min(at, born),
				to = Max(at, born);
	int			y1,
				m1,
				d1,
				y2,
				m2,
				d2;
	int			years;

	if (DATE_NOT_FINITE(at) || DATE_NOT_FINITE(born))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("cannot count the years to an infinite date")));
	j2date(from + POSTGRES_EPOCH_JDATE, &y1, &m1, &d1);
	j2date(to + POSTGRES_EPOCH_JDATE, &y2, &m2, &d2);
	years = y2 - y1 - (m2 < m1 || (m2 == m1 && d2 < d1));
	PG_RETURN_INT32(at >= born ? years : -years);
}
