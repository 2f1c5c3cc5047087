-- RFM scores kept by the triggers.  Where no maintained segment reads the
-- scores, a statement's customers are rescored from the values their
-- segments' evaluation aggregated beside its own features (one pass over
-- their orders); otherwise from their orders, before the evaluation.  Both
-- must give what segment.rfm_rescore() gives for the same customers at the
-- same time: for one customer (a generic plan), for some (planned for
-- them), for most (a pass over everyone), for customers whose orders leave
-- the window, and for orders whose customer is not in the customers table.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS segment CASCADE;
CREATE EXTENSION segment;
RESET client_min_messages;
SET timezone = 'UTC';

CREATE SCHEMA rs;
CREATE TABLE rs.customers (id bigint PRIMARY KEY, city text NOT NULL);
-- no foreign key: orders may name customers the table does not have
CREATE TABLE rs.orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL,
                        placed_at timestamptz NOT NULL, total numeric(10,2) NOT NULL);
CREATE INDEX ON rs.orders (customer_id);
INSERT INTO rs.customers SELECT g, CASE WHEN g % 3 = 0 THEN 'Ohrid' ELSE 'Bitola' END
  FROM generate_series(1, 1500) g;
-- 0 to 3 orders each over the last two years, some for customers 9001-9010
INSERT INTO rs.orders
SELECT row_number() OVER (), c, now() - ((c * 37 + k * 101) % 700) * interval '1 day' - k * interval '1 hour',
       ((c * 13 + k * 7) % 50000) / 100.0
  FROM (SELECT g AS c FROM generate_series(1, 1500) g UNION ALL SELECT g FROM generate_series(9001, 9010) g) c,
       generate_series(1, 3) k
 WHERE (c * 7 + k) % 4 <> 0;
ANALYZE rs.customers, rs.orders;

SELECT segment.track_customers('rs.customers');
SELECT segment.track_orders('rs.orders', time_column => 'placed_at', amount_column => 'total');
SELECT segment.define('recent', 'orders(last 90 days) >= 1');
SELECT segment.define('ohrid_big', 'city = ''Ohrid'' AND spent(last 365 days) >= 300');
SELECT segment.rfm_refresh() > 1000 AS scored;

-- The scores the triggers left for the customers `keys` (the orphans
-- 9001-9010 included), against rfm_rescore() of the same customers at the
-- same as_of, in both directions: 0 rows when they agree.  Rolls nothing
-- back: it rewrites the rows it compared with what they should be.
CREATE FUNCTION pg_temp.differ(keys bigint[]) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    at timestamptz;
    bad bigint;
BEGIN
    CREATE TEMP TABLE by_trigger ON COMMIT DROP AS
    SELECT customer_id, recency_days, frequency, monetary, score, as_of
      FROM segment.customer_rfm WHERE customer_id = ANY (keys::text[]);
    -- the triggers score as of the transaction's start (the segments are older)
    at := now();
    IF EXISTS (SELECT 1 FROM by_trigger WHERE as_of <> at) THEN
        RAISE EXCEPTION 'a score is not as of the transaction''s start';
    END IF;
    PERFORM segment.rfm_rescore(keys::text[], at);
    SELECT count(*) INTO bad FROM (
        (TABLE by_trigger EXCEPT SELECT customer_id, recency_days, frequency, monetary, score, as_of
                                   FROM segment.customer_rfm WHERE customer_id = ANY (keys::text[]))
        UNION ALL
        (SELECT customer_id, recency_days, frequency, monetary, score, as_of
           FROM segment.customer_rfm WHERE customer_id = ANY (keys::text[])
         EXCEPT TABLE by_trigger)) d;
    DROP TABLE by_trigger;
    RETURN bad;
END $$;

-- One customer, and an orphan, in single-row inserts.
BEGIN;
INSERT INTO rs.orders VALUES (100001, 7, now() - interval '2 days', 12.34);
INSERT INTO rs.orders VALUES (100002, 9001, now() - interval '3 days', 99.99);
SELECT frequency >= 1 AS orphan_scored FROM segment.customer_rfm WHERE customer_id = '9001';
SELECT pg_temp.differ('{7, 9001}') AS differ_one;
COMMIT;

-- Some customers (200: a plan for their keys), with a customer's only
-- order in the window moved out of it, and orders older than the window.
BEGIN;
INSERT INTO rs.orders
SELECT 200000 + g, g * 7, now() - (g % 400) * interval '1 day', (g % 90) + 0.05
  FROM generate_series(1, 200) g;
SELECT pg_temp.differ(ARRAY(SELECT g * 7 FROM generate_series(1, 200) g)) AS differ_some;
COMMIT;
BEGIN;
CREATE TEMP TABLE leaving AS
SELECT customer_id FROM rs.orders WHERE placed_at > now() - interval '365 days'
 GROUP BY customer_id HAVING count(*) = 1 ORDER BY customer_id LIMIT 100;
UPDATE rs.orders SET placed_at = placed_at - interval '400 days'
 WHERE customer_id IN (SELECT customer_id FROM leaving) AND placed_at > now() - interval '365 days';
SELECT count(*) AS still_scored FROM segment.customer_rfm
 WHERE customer_id IN (SELECT customer_id::text FROM leaving);
SELECT pg_temp.differ(ARRAY(SELECT customer_id FROM leaving)) AS differ_leaving;
COMMIT;

-- Most customers (1,200 of 1,500: a pass over everyone's orders).
BEGIN;
INSERT INTO rs.orders
SELECT 300000 + g, g, now() - (g % 30) * interval '1 hour', 10.10 + g % 7
  FROM generate_series(1, 1200) g;
SELECT pg_temp.differ(ARRAY(SELECT g FROM generate_series(1, 1200) g)) AS differ_most;
COMMIT;

-- Deleting orders: a customer whose last order in the window goes loses the score.
BEGIN;
DELETE FROM rs.orders WHERE customer_id IN (7, 9001) AND placed_at > now() - interval '365 days';
SELECT count(*) AS scores_left FROM segment.customer_rfm WHERE customer_id IN ('7', '9001');
SELECT pg_temp.differ('{7, 9001}') AS differ_deleted;
COMMIT;

-- A segment that reads the scores: they are rescored before it is evaluated.
SELECT segment.define('rfm_top', 'rfm.r >= 4 AND rfm.f >= 3') > 0 AS has_members;
BEGIN;
INSERT INTO rs.orders
SELECT 400000 + g, g * 11, now() - interval '1 hour', 500
  FROM generate_series(1, 120) g;
SELECT pg_temp.differ(ARRAY(SELECT g * 11 FROM generate_series(1, 120) g)) AS differ_read;
SELECT count(*) AS unlike_recompute FROM segment.verify();
COMMIT;

DROP SCHEMA rs CASCADE;
