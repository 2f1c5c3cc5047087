-- rfm_refresh() moves the stored values to its new time by the orders that
-- crossed the window's edges, instead of reading every order of the window.
-- After each refresh the stored values must equal the plain aggregate of the
-- orders at that time, whether they were moved or aggregated: across days
-- and hours, more than a window, changes made through the triggers, rows
-- rescored by hand as of another time, and in every case where the values
-- cannot be moved (earlier time, new window, orders truncated, no unique
-- order key), which must read every order instead.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS segment CASCADE;
CREATE EXTENSION segment;
RESET client_min_messages;
SET timezone = 'UTC';

CREATE SCHEMA rm;
CREATE TABLE rm.customers (id bigint PRIMARY KEY);
-- no foreign key: orders may name customers the table does not have, or none
CREATE TABLE rm.orders (id bigint PRIMARY KEY, customer_id bigint,
                        placed_at timestamptz NOT NULL, total numeric(10,2) NOT NULL);
CREATE INDEX ON rm.orders (customer_id);
CREATE INDEX ON rm.orders (placed_at);
INSERT INTO rm.customers SELECT g FROM generate_series(1, 400) g;
-- 4,000 orders of 450 customers over two years up to 19 days after 2026-06-01,
-- on every hour of the day; every 97th has no customer
INSERT INTO rm.orders
SELECT g, CASE WHEN g % 97 <> 0 THEN g * 7919 % 450 + 1 END,
       timestamptz '2026-06-20' - (g * 37 % 800) * interval '1 day' - (g % 24) * interval '1 hour',
       (g * 13 % 50000) / 100.0
  FROM generate_series(1, 4000) g;
ANALYZE rm.customers, rm.orders;
SELECT segment.track_customers('rm.customers');
SELECT segment.track_orders('rm.orders', time_column => 'placed_at', amount_column => 'total');

-- Before any refresh nothing is maintained, but the customers of changed
-- orders are noted all the same: a first refresh whose snapshot missed the
-- change must not let the next one move their values.
INSERT INTO rm.orders VALUES (5001, 7, '2026-05-30', 10);
SELECT customer_id, orders_changed_by IS NOT NULL AS noted FROM segment.customer_turns;

-- The stored values against the plain aggregate at `at` over the configured
-- window (0 rows when they agree, both ways), how the refresh got them
-- (moved_from: the time they were moved from, or null: aggregated), and
-- that every row is as of `at`.
CREATE FUNCTION pg_temp.step(at timestamptz)
RETURNS TABLE (scored bigint, moved_from timestamptz, wrong bigint, rows_as_of_at boolean)
LANGUAGE plpgsql AS $$
DECLARE
    w interval := (SELECT c."window" FROM segment.rfm_config c);
BEGIN
    scored := segment.rfm_refresh(at);
    moved_from := (SELECT s.moved_from FROM segment.rfm_store s);
    WITH plain AS (
        SELECT o.customer_id::text AS customer_id,
               floor(extract(epoch FROM at - max(o.placed_at)) / 86400)::integer AS recency_days,
               count(DISTINCT o.id) AS frequency, sum(o.total) AS monetary, max(o.placed_at) AS last_order_at
          FROM rm.orders o
         WHERE o.placed_at > at - w AND o.placed_at <= at AND o.customer_id IS NOT NULL
         GROUP BY o.customer_id),
    stored AS (
        SELECT c.customer_id, c.recency_days, c.frequency, c.monetary, c.last_order_at
          FROM segment.customer_rfm c)
    SELECT count(*) INTO wrong
      FROM ((TABLE plain EXCEPT TABLE stored) UNION ALL (TABLE stored EXCEPT TABLE plain)) d;
    rows_as_of_at := NOT EXISTS (SELECT 1 FROM segment.customer_rfm c WHERE c.as_of <> at);
    RETURN NEXT;
END
$$;

-- the first refresh aggregates; the next ones move, by a day, by hours
SELECT * FROM pg_temp.step('2026-06-01');
SELECT * FROM pg_temp.step('2026-06-02');
SELECT * FROM pg_temp.step('2026-06-12 05:30');
-- the same time again: nothing to move
SELECT * FROM pg_temp.step('2026-06-12 05:30');

-- Changes through the triggers, which rescore the customers as of now: an
-- order in the window, one of a new customer not in the customers table, one
-- too old to count, one in the future, one placed exactly at the next
-- refresh's time; deleted orders, an order moved to another customer, an
-- amount corrected, an order moved out of the window.
INSERT INTO rm.orders VALUES (6001, 11, '2026-06-10', 99.99), (6002, 1000, '2026-06-11', 5),
                             (6003, 12, '2024-01-01', 7), (6004, 13, '2026-08-01', 8),
                             (6005, 14, '2026-06-13', 9);
DELETE FROM rm.orders WHERE id IN (10, 11, 12);
UPDATE rm.orders SET customer_id = 6 WHERE id = 20;
UPDATE rm.orders SET total = total + 1000 WHERE id = 21;
UPDATE rm.orders SET placed_at = '2023-01-01' WHERE id = 22;
SELECT * FROM pg_temp.step('2026-06-13');

-- Rows rescored by hand as of another time: two customers lose their rows
-- (no order in 2020), one is scored as of a later time.
SELECT segment.rfm_rescore(ARRAY['3', '4'], '2020-01-01') AS rescored_in_2020;
SELECT segment.rfm_rescore(ARRAY['5'], '2026-09-01') AS rescored_later;
SELECT * FROM pg_temp.step('2026-06-14');

-- A session with other date settings moves them all the same.
SET timezone = 'America/New_York';
SET datestyle = 'SQL, DMY';
SET intervalstyle = 'iso_8601';
SELECT moved_from IS NOT NULL AS moved, wrong, rows_as_of_at FROM pg_temp.step('2026-06-15 00:00+00');
RESET datestyle;
RESET intervalstyle;
SET timezone = 'UTC';

-- More than a window later: every order left and many entered, moved all the same.
SELECT * FROM pg_temp.step('2027-07-01');
SELECT * FROM pg_temp.step('2027-07-03');

-- An earlier time: values are not moved back, every order is read.
SELECT * FROM pg_temp.step('2026-06-05');
SELECT * FROM pg_temp.step('2026-06-06');

-- Another window: every order is read, then moved in the new window.
SELECT segment.rfm_configure("window" => '90 days');
SELECT * FROM pg_temp.step('2026-06-07');
SELECT * FROM pg_temp.step('2026-06-20');

-- Orders changed with the triggers disabled are not seen by a moved refresh
-- (the README's caveat); deleting the store's row makes the next one read
-- every order.
ALTER TABLE rm.orders DISABLE TRIGGER USER;
INSERT INTO rm.orders VALUES (7001, 1, '2026-06-19', 1);
ALTER TABLE rm.orders ENABLE TRIGGER USER;
SELECT wrong FROM pg_temp.step('2026-06-21');
DELETE FROM segment.rfm_store;
SELECT * FROM pg_temp.step('2026-06-21');

-- TRUNCATE rescores through a refresh that reads every order, as of now;
-- the orders inserted after it are moved in by the next.
TRUNCATE rm.orders;
SELECT count(*) AS scores_left, (SELECT moved_from IS NULL FROM segment.rfm_store) AS aggregated
  FROM segment.customer_rfm;
SELECT as_of AS truncated_at FROM segment.rfm_store \gset
INSERT INTO rm.orders VALUES (8001, 1, now() - interval '3 days', 10), (8002, 2, now() + interval '1 hour', 20);
SELECT scored, moved_from = :'truncated_at' AS moved_from_truncation, wrong, rows_as_of_at
  FROM pg_temp.step(now() + interval '1 day');

-- Without a unique order key, counts cannot be moved: every order is read.
ALTER TABLE rm.orders DROP CONSTRAINT orders_pkey;
INSERT INTO rm.orders VALUES (8001, 1, now() + interval '1 day', 10);
SELECT scored, moved_from, wrong, rows_as_of_at FROM pg_temp.step(now() + interval '2 days');
SELECT scored, moved_from, wrong, rows_as_of_at FROM pg_temp.step(now() + interval '3 days');

DROP SCHEMA rm CASCADE;
