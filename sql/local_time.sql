-- Local hours and months (hour(), counting distinct months) and whole years
-- (age()) come from src/local_time.c, which keeps a time zone's offset
-- between two of its changes instead of asking the zone on every call.
-- Their results must be date_part()'s, in every zone, across daylight-saving
-- changes, local mean time and zones that moved by half hours or skipped a
-- day, in any order of rows, and after the session's zone changes.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS segment CASCADE;
CREATE EXTENSION segment;
DROP SCHEMA IF EXISTS lt CASCADE;
RESET client_min_messages;

CREATE SCHEMA lt;
-- times: hourly over 2010-2013 (Apia skipped 30 December 2011), every 7
-- minutes around this century's changes in Europe and America, odd seconds
-- from 1850 (local mean time, offsets in seconds) to 2100 (past the last
-- transition, zones' rules), and 1 BC; shuffled, so that stretches are met
-- out of order
CREATE TABLE lt.times AS
SELECT t, random() AS shuffle FROM (
    SELECT generate_series(timestamptz '2010-01-01 00:00+00', '2013-12-31', '1 hour') AS t
    UNION ALL
    SELECT generate_series(d - interval '3 hours', d + interval '3 hours', '7 minutes')
      FROM unnest(ARRAY[timestamptz '2026-03-29 01:00+00', '2026-10-25 01:00+00',
                        '2026-03-08 07:00+00', '2026-11-01 06:00+00', '2011-12-30 10:00+00']) d
    UNION ALL
    SELECT timestamptz '1850-01-01 00:00:00.5+00' + n * interval '3 days 1 hour 1 minute 1.25 seconds'
      FROM generate_series(0, 30000) n
    UNION ALL
    SELECT timestamptz '0001-12-31 23:30:00+00 BC'
) s;
SELECT setseed(0.5);
UPDATE lt.times SET shuffle = random();

-- every zone, every time: no difference from date_part()
CREATE FUNCTION lt.differences(zone text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM set_config('TimeZone', zone, true);
    SELECT count(*) INTO n
      FROM (SELECT t FROM lt.times ORDER BY shuffle) s
     WHERE segment._local_hour(t) IS DISTINCT FROM date_part('hour', t)::int
        OR segment._local_month(t) IS DISTINCT FROM (date_part('year', t) * 12 + date_part('month', t))::int;
    RETURN n;
END
$$;
SELECT zone, lt.differences(zone) AS differences
  FROM unnest(ARRAY['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe',
                    'Asia/Kolkata', 'America/St_Johns', 'Pacific/Apia', 'Europe/Dublin',
                    'Africa/Casablanca', 'Antarctica/Troll', '<+0130>-01:30']) zone;

SET TimeZone = 'Europe/Berlin';
-- infinite times have no hour or month, as date_part() says
SELECT segment._local_hour(timestamptz 'infinity') AS hour, segment._local_month(timestamptz '-infinity') AS month,
       date_part('hour', timestamptz 'infinity') AS date_part_hour;
-- timestamps without a zone and dates are taken as they are
SELECT segment._local_hour(timestamp '2026-03-29 02:30') AS ts_hour,
       segment._local_month(timestamp '2026-12-31 23:59:59.999999') AS ts_month,
       segment._local_hour(date '2026-03-29') AS date_hour,
       segment._local_month(date '0001-01-01 BC') AS bc_month,
       (date_part('year', date '0001-01-01 BC') * 12 + 1)::int AS bc_date_part;

-- The zone is the session's at each call: one statement, its zone changed
-- between rows, still matches date_part().
SELECT count(*) FILTER (WHERE h IS DISTINCT FROM dp) AS differences, count(*) AS rows
  FROM (SELECT set_config('TimeZone', z, true) AS zone,
               segment._local_hour(t) AS h, date_part('hour', t)::int AS dp
          FROM (SELECT t, CASE WHEN (shuffle * 1e6)::bigint % 2 = 0 THEN 'Asia/Tokyo' ELSE 'America/Los_Angeles' END AS z
                  FROM lt.times WHERE t > '2010-01-01' ORDER BY shuffle LIMIT 2000) s) r;
RESET TimeZone;

-- whole years: date_part('year', age(at, born)) for every pair of days
-- across two leap years, both ways round (age() counts back), and 1 BC
SELECT count(*) FILTER (WHERE segment._age_years(p.at, p.born) IS DISTINCT FROM date_part('year', age(p.at, p.born))::int)
       AS differences, count(*) AS pairs
  FROM (SELECT generate_series(date '2023-02-25', '2024-03-05', '1 day')::date) x(d),
       (SELECT generate_series(date '1996-02-20', '2029-03-05', '17 days')::date
        UNION ALL VALUES (date '2000-02-29'), (date '2028-02-29'), (date '0001-03-01 BC')) y(d),
       LATERAL (VALUES (x.d, y.d), (y.d, x.d)) p(at, born);
SELECT segment._age_years('2025-02-28', '2024-02-29') AS feb_28, segment._age_years('2025-03-01', '2024-02-29') AS mar_1,
       segment._age_years('2020-01-01', '2021-06-01') AS before_birth;
SELECT segment._age_years('infinity', '2000-01-01');

-- End to end: orders late in the evening in New York and months counted in
-- Berlin, whose local calendar differs from UTC's at the ends of months.
SET TimeZone = 'America/New_York';
CREATE TABLE lt.customers (id int PRIMARY KEY, born date);
CREATE TABLE lt.orders (id int PRIMARY KEY, customer_id int NOT NULL, at timestamptz NOT NULL,
                        total numeric(10,2) NOT NULL DEFAULT 10);
CREATE INDEX ON lt.orders (customer_id);
INSERT INTO lt.customers VALUES (1, '2000-03-01'), (2, '2000-02-29'), (3, '2001-01-01');
INSERT INTO lt.orders (id, customer_id, at) VALUES
    (1, 1, '2026-03-08 02:30+00'), (2, 1, '2026-03-09 02:30+00'),   -- 21:30 EST, 22:30 EDT
    (3, 2, '2026-10-31 23:30+00'), (4, 2, '2026-10-15 12:00+00'),   -- in Berlin: November, October
    (5, 3, '2026-10-15 12:00+00'), (6, 3, '2026-09-30 22:30+00');   -- in Berlin: October twice
SELECT segment.track_customers('lt.customers');
SELECT segment.track_orders('lt.orders', time_column => 'at');
SELECT segment.define('late', 'orders(hour(at) >= 22) >= 1', as_of => '2026-11-10');
SELECT segment.define('adult_26', 'age(born) >= 26', as_of => '2026-03-01');
SET TimeZone = 'Europe/Berlin';
SELECT segment.define('two_months', 'order_months(last 3 months) >= 2', as_of => '2026-11-10');
SELECT segment.define('two_months_ever', 'order_months() >= 2', as_of => '2026-11-10');
SELECT segment, array_agg(customer_id::int ORDER BY customer_id::int) AS members
  FROM segment.members GROUP BY 1 ORDER BY 1;
RESET TimeZone;

DROP SCHEMA lt CASCADE;
