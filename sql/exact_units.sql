-- Amounts of numeric(p, s) columns (p <= 18) are aggregated as int8 counts
-- of 10^-s (src/exact_units.c).  The results must be the numeric ones to
-- the last digit, other columns must keep numeric arithmetic, and an amount
-- with no exact value (NaN) must be refused by name, leaving membership as
-- it was.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS segment CASCADE;
CREATE EXTENSION segment;
DROP SCHEMA IF EXISTS u CASCADE;
RESET client_min_messages;
SET timezone = 'UTC';
\set as_of '2026-11-01 00:00:00+00'

CREATE SCHEMA u;
CREATE TABLE u.customers (id int PRIMARY KEY);
CREATE TABLE u.products (id int PRIMARY KEY, category text);
CREATE TABLE u.orders (id int PRIMARY KEY, customer_id int NOT NULL, at timestamptz NOT NULL,
                       total numeric(12,2) NOT NULL);
CREATE TABLE u.items (id int PRIMARY KEY, order_id int NOT NULL, product_id int NOT NULL,
                      qty int NOT NULL, price numeric(10,2) NOT NULL);
CREATE TABLE u.events (id int PRIMARY KEY, customer_id int NOT NULL, kind text NOT NULL,
                       at timestamptz NOT NULL, tip numeric(6,2));
CREATE INDEX ON u.orders (customer_id);
CREATE INDEX ON u.items (order_id);
CREATE INDEX ON u.events (customer_id);
INSERT INTO u.customers SELECT generate_series(1, 4);
INSERT INTO u.products VALUES (1, 'tea'), (2, 'cups');
-- 1: 33.34 + 33.33 + 33.34 = 100.01; 2: 100.00; 3: 0.10 + 0.20 + 99.70 =
-- 100.00, which binary fractions miss; 4: nothing
INSERT INTO u.orders VALUES
    (1, 1, '2026-10-01', 33.34), (2, 1, '2026-10-02', 33.33), (3, 1, '2026-10-03', 33.34),
    (4, 2, '2026-10-01', 100.00),
    (5, 3, '2026-10-01', 0.10), (6, 3, '2026-10-02', 0.20), (7, 3, '2026-10-03', 99.70);
INSERT INTO u.items VALUES
    (1, 1, 1, 3, 3.33), (2, 2, 2, 1, 0.01),     -- customer 1: tea 9.99, cups 0.01
    (3, 4, 1, 1, 10.00),                        -- customer 2: tea 10.00
    (4, 5, 1, 7, 1.43);                         -- customer 3: tea 10.01
-- tips given on the site: 4 gives 0.10 + 0.20 = 0.30, 1 gives none (NULL)
INSERT INTO u.events VALUES
    (1, 4, 'tip', '2026-10-01', 0.10), (2, 4, 'tip', '2026-10-02', 0.20), (3, 1, 'tip', '2026-10-02', NULL);

SELECT segment.track_customers('u.customers');
SELECT segment.track_orders('u.orders', time_column => 'at');
SELECT segment.track_products('u.products');
SELECT segment.track_order_items('u.items', product_column => 'product_id',
                                 quantity_column => 'qty', price_column => 'price');
SELECT segment.track_events('u.events', time_column => 'at');

SELECT segment.define('spent_100_01', 'spent() >= 100.01', as_of => :'as_of');
SELECT segment.define('spent_100', 'spent(last 90 days) = 100', as_of => :'as_of');
SELECT segment.define('max_33_34', 'max_order() = 33.34', as_of => :'as_of');
SELECT segment.define('min_0_10', 'min_order() < 0.11', as_of => :'as_of');
SELECT segment.define('tea_10', 'spent_on(category = ''tea'') >= 10', as_of => :'as_of');
SELECT segment.define('tea_9_99', 'spent_on(category = ''tea'') = 9.99', as_of => :'as_of');
SELECT segment.define('tips_0_30', 'sum_events(''tip'', tip) = 0.3', as_of => :'as_of');

-- every amount aggregate of these rules is over units, and sums keep a
-- bigint in each group, not sum(bigint)'s wider state
SELECT s.name, q.sql LIKE '%segment._exact_units(%' AS units, q.sql LIKE '%sum(o.total)%' AS numeric_sum,
       q.sql ~ '(^|[^_])sum\(segment\._exact_units' AS wide_sum
  FROM segment.segments s, LATERAL (SELECT segment._evaluation_sql(ARRAY[s.id], false) AS sql) q
 ORDER BY s.name;

-- membership, and the same from plain numeric SQL
CREATE FUNCTION pg_temp.members(seg text) RETURNS int[]
LANGUAGE sql AS $$
    SELECT COALESCE(array_agg(customer_id::int ORDER BY customer_id::int), '{}')
      FROM segment.members WHERE segment = seg
$$;
SELECT pg_temp.members('spent_100_01') AS spent_100_01,
       pg_temp.members('spent_100') AS spent_100,
       pg_temp.members('max_33_34') AS max_33_34,
       pg_temp.members('min_0_10') AS min_0_10,
       pg_temp.members('tea_10') AS tea_10,
       pg_temp.members('tea_9_99') AS tea_9_99,
       pg_temp.members('tips_0_30') AS tips_0_30;
SELECT array_agg(customer_id ORDER BY customer_id) FILTER (WHERE s >= 100.01) AS spent_100_01,
       array_agg(customer_id ORDER BY customer_id) FILTER (WHERE s = 100) AS spent_100,
       array_agg(customer_id ORDER BY customer_id) FILTER (WHERE m = 33.34) AS max_33_34,
       array_agg(customer_id ORDER BY customer_id) FILTER (WHERE n < 0.11) AS min_0_10
  FROM (SELECT customer_id, sum(total) s, max(total) m, min(total) n FROM u.orders GROUP BY 1) t;
SELECT o.customer_id, sum(i.price * i.qty) AS tea
  FROM u.items i JOIN u.orders o ON o.id = i.order_id
 WHERE i.product_id = 1 GROUP BY 1 ORDER BY 1;

-- Compared with a number, an amount is compared in units, the number
-- scaled once at compile time; a number with more decimals than the column
-- keeps numeric arithmetic.  Either way, the members numeric SQL gives.
SELECT segment.define('over_100_005', 'spent() >= 100.005', as_of => :'as_of');
SELECT segment.define('from_100_to_100_01', 'spent() BETWEEN 100 AND 100.01', as_of => :'as_of');
SELECT segment.define('max_33_335_to_34', 'max_order() BETWEEN 33.335 AND 34', as_of => :'as_of');
SELECT segment.define('number_first', '100.01 <= spent()', as_of => :'as_of');
SELECT segment.define('min_over_minus_1', 'min_order() > -1', as_of => :'as_of');
SELECT s.name, q.sql ~ '\(-?\d+\)::pg_catalog.int8' AS in_units
  FROM segment.segments s, LATERAL (SELECT segment._evaluation_sql(ARRAY[s.id], false) AS sql) q
 ORDER BY s.name;
SELECT pg_temp.members('over_100_005') AS over_100_005,
       pg_temp.members('from_100_to_100_01') AS from_100_to_100_01,
       pg_temp.members('max_33_335_to_34') AS max_33_335_to_34,
       pg_temp.members('number_first') AS number_first,
       pg_temp.members('min_over_minus_1') AS min_over_minus_1;
SELECT array_agg(customer_id ORDER BY customer_id) FILTER (WHERE s >= 100.005) AS over_100_005,
       array_agg(customer_id ORDER BY customer_id) FILTER (WHERE s BETWEEN 100 AND 100.01) AS from_100_to_100_01,
       array_agg(customer_id ORDER BY customer_id) FILTER (WHERE m BETWEEN 33.335 AND 34) AS max_33_335_to_34,
       array_agg(customer_id ORDER BY customer_id) FILTER (WHERE 100.01 <= s) AS number_first,
       array_agg(customer_id ORDER BY customer_id) FILTER (WHERE n > -1) AS min_over_minus_1
  FROM (SELECT customer_id, sum(total) s, max(total) m, min(total) n FROM u.orders GROUP BY 1) t;
SELECT count(segment.drop_segment(name)) FROM segment.segments
 WHERE name IN ('over_100_005', 'from_100_to_100_01', 'max_33_335_to_34', 'number_first', 'min_over_minus_1');

-- RFM's money: the sums, to the cent, with the column's scale
SELECT segment.rfm_refresh(as_of => :'as_of');
SELECT customer_id, monetary FROM segment.customer_rfm ORDER BY customer_id;

-- maintained from a trigger: one more cent makes 2 a member
INSERT INTO u.orders VALUES (8, 2, '2026-10-05', 0.01);
SELECT pg_temp.members('spent_100_01') AS spent_100_01, pg_temp.members('spent_100') AS spent_100;

-- A quantity that is not whole (kilograms) keeps numeric arithmetic: units
-- times a fraction would not be whole.
ALTER TABLE u.items ALTER COLUMN qty TYPE numeric(8,3);
UPDATE u.items SET qty = 0.5 WHERE id = 3;          -- customer 2: tea 5.00
SELECT segment.define('tea_5', 'spent_on(category = ''tea'') = 5', as_of => :'as_of');
SELECT segment._evaluation_sql(ARRAY(SELECT id FROM segment.segments WHERE name = 'tea_5'), false)
       LIKE '%sum(i.price * i.qty)%' AS numeric_product;
SELECT pg_temp.members('tea_5') AS tea_5;

-- A plain numeric column has no scale to count in: numeric as before.
ALTER TABLE u.orders ALTER COLUMN total TYPE numeric;
SELECT segment.define('spent_100_01', 'spent() >= 100.01', as_of => :'as_of');
SELECT segment._evaluation_sql(ARRAY(SELECT id FROM segment.segments WHERE name = 'spent_100_01'), false)
       LIKE '%_exact_units%' AS units;
SELECT pg_temp.members('spent_100_01') AS spent_100_01;
ALTER TABLE u.orders ALTER COLUMN total TYPE numeric(12,2);
SELECT count(*) FROM segment.refresh(as_of => :'as_of');

-- The type changes under rules compiled in this session: they are compiled
-- again at once, in units of 10^-3 (in units of cents, the trigger would
-- refuse 0.005).  3 spends 100.005 and leaves spent_100.
ALTER TABLE u.orders ALTER COLUMN total TYPE numeric(12,3);
INSERT INTO u.orders VALUES (10, 3, '2026-10-06', 0.005);
SELECT pg_temp.members('spent_100') AS spent_100;
SELECT segment._evaluation_sql(ARRAY(SELECT id FROM segment.segments WHERE name = 'spent_100'), false)
       LIKE '%segment._exact_units(o.total, 3)%' AS thousandths;

-- NaN fits numeric(12,2) but has no exact sum: the insert is refused, by
-- name, and nothing changes.
\set VERBOSITY default
INSERT INTO u.orders VALUES (9, 4, '2026-10-05', 'NaN');
SELECT count(*) AS nan_orders FROM u.orders WHERE total = 'NaN';
-- a row that came in without maintenance fails a refresh, which leaves
-- membership as it was
SET session_replication_role = replica;
INSERT INTO u.orders VALUES (9, 4, '2026-10-05', 'NaN');
RESET session_replication_role;
CREATE TEMP TABLE before AS SELECT segment, customer_id FROM segment.members;
SELECT count(*) FROM segment.refresh(as_of => :'as_of');
SELECT (SELECT count(*) FROM before) AS members_before,
       (SELECT count(*) FROM segment.members) AS members_after,
       NOT EXISTS (SELECT segment, customer_id FROM before
                   EXCEPT SELECT segment, customer_id FROM segment.members) AS unchanged;
DELETE FROM u.orders WHERE id = 9;

-- the conversion itself: exact, and out of range by name
SELECT segment._exact_units(1234.56, 2) AS cents, segment._exact_units(0.005, 3, 7) AS times,
       segment._exact_units(-12, 0) AS negative;
-- the scale may change from row to row of one call site
SELECT v.x, v.s, segment._exact_units(v.x, v.s) AS units
  FROM (VALUES (1.5, 1), (1.25, 2), (7, 0), (0.125, 3), (2.5, 1)) v(x, s);
SELECT segment._exact_units(92233720368547758.07, 2, 2);
SELECT segment._exact_units(1, 19);
SELECT segment._exact_units(1.005, 2);
SELECT segment._exact_units(1.500, 2) AS trailing_zeros;
-- Values in numeric's short format are read digit by digit, others through
-- numeric arithmetic: both agree with numeric arithmetic for every scale,
-- sign, size up to int8's limit, digit position and stored display scale
-- (a display scale past 63 takes the long format).
SELECT count(*) AS checked,
       count(*) FILTER (WHERE segment._exact_units(v, s) IS DISTINCT FROM u) AS wrong,
       count(*) FILTER (WHERE segment._exact_units(-v, s) IS DISTINCT FROM -u) AS wrong_negative,
       count(*) FILTER (WHERE segment._exact_units(round(v, 63 + s % 2), s) IS DISTINCT FROM u)
           AS wrong_display_scale,
       count(*) FILTER (WHERE u < 3e18 AND segment._exact_units(v, s, 3) IS DISTINCT FROM 3 * u) AS wrong_times
  FROM (SELECT s, u, u * ('1e-' || s)::numeric AS v
          FROM generate_series(0, 18) s,
               LATERAL (SELECT DISTINCT ((g::numeric * 7919 * 10::numeric ^ (g % 19)) % 9223372036854775807)::bigint AS u
                          FROM generate_series(0, 400) g
                        UNION SELECT 9223372036854775807 UNION SELECT 1000000000000000000 UNION SELECT 1) k) t;
-- a fraction of a unit, at the first and last of a digit's places, and past int8
SELECT segment._exact_units(0.0001, 3);
SELECT segment._exact_units(10000.1, 0);
SELECT segment._exact_units(92233720368547758.08, 2);
SELECT segment._exact_units(-92233720368547758.08, 2);
SELECT segment._exact_units('Infinity', 2);
-- sums of units: NULL for none, exact to bigint's last unit, an error past it
SELECT segment._sum_units(x) AS none FROM (VALUES (NULL::bigint)) v(x);
SELECT segment._sum_units(x) AS largest FROM (VALUES (9223372036854775806), (-5), (NULL), (6)) v(x);
SELECT segment._sum_units(x) FROM (VALUES (9223372036854775807), (1)) v(x);

DROP SCHEMA u CASCADE;
