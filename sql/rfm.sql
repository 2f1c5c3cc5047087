-- RFM: the rfm type, configuration, the three methods, incremental
-- rescoring and labels, on a ten-customer store worked out by hand.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS segment CASCADE;
CREATE EXTENSION segment;
RESET client_min_messages;
SET timezone = 'UTC';
\set SHOW_CONTEXT never
\set as_of '2026-06-01 00:00:00+00'

-- ---------------------------------------------------------------------------
-- The type.
-- ---------------------------------------------------------------------------

-- Text form: three digits, or dashed; output is always three digits.
SELECT '543'::segment.rfm AS plain, '5-4-3'::segment.rfm AS dashed, ' 5-4-3 '::segment.rfm AS spaced,
       '111'::segment.rfm AS lowest, '999'::segment.rfm AS highest;
-- '563' is a valid value of the type: bins are checked where a configuration is known
SELECT '563'::segment.rfm;
-- invalid input, one problem per line
SELECT ''::segment.rfm;
SELECT '5x3'::segment.rfm;
SELECT '1234'::segment.rfm;
SELECT '12'::segment.rfm;
SELECT '0-1-2'::segment.rfm;
SELECT '503'::segment.rfm;
SELECT '5-4'::segment.rfm;
SELECT '5-4-3-2'::segment.rfm;
SELECT '55-4-3'::segment.rfm;
SELECT '5--3'::segment.rfm;
SELECT '5-4-'::segment.rfm;
SELECT '-543'::segment.rfm;
SELECT '5 4 3'::segment.rfm;
SELECT 'é43'::segment.rfm;

-- Constructor, accessors, and the casts to and from integer (explicit only).
SELECT segment.rfm(5, 4, 3), segment.rfm_r('543'), segment.rfm_f('543'), segment.rfm_m('543');
SELECT segment.rfm(0, 4, 3);
SELECT segment.rfm(5, 4, 10);
SELECT 543::segment.rfm, '5-4-3'::segment.rfm::integer, segment.rfm(911);
SELECT 503::segment.rfm;
SELECT 1000::segment.rfm;
SELECT 99::segment.rfm;
SELECT castcontext FROM pg_cast
 WHERE (castsource, casttarget) IN (('segment.rfm'::regtype, 'integer'::regtype),
                                    ('integer'::regtype, 'segment.rfm'::regtype));

-- Comparison: R first, then F, then M.
SET search_path = segment, pg_catalog;
SELECT '543'::rfm = '5-4-3', '543'::rfm <> '543', '455'::rfm < '511', '511'::rfm <= '511',
       '521'::rfm > '519', '119'::rfm >= '121';
SELECT array_agg(s ORDER BY s) FROM unnest('{543,455,511,119,999,111,545}'::rfm[]) s;
SELECT array_agg(s ORDER BY s DESC) FROM unnest('{543,455,511,119,999,111,545}'::rfm[]) s;
RESET search_path;

-- The default btree and hash operator classes serve indexes, sorts,
-- grouping and joins.
CREATE TEMP TABLE scores AS
SELECT segment.rfm(1 + g % 5, 1 + g / 5 % 5, 1 + g / 25 % 5) AS s FROM generate_series(0, 499) g;
CREATE INDEX ON scores (s);
CREATE INDEX ON scores USING hash (s);
ANALYZE scores;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM scores WHERE s OPERATOR(segment.>=) '541';
SELECT count(*) FROM scores WHERE s OPERATOR(segment.>=) '541';
SET enable_indexscan = off;
SET enable_indexonlyscan = off;
SET enable_bitmapscan = on;
EXPLAIN (COSTS OFF) SELECT count(*) FROM scores WHERE s OPERATOR(segment.=) '333';
SELECT count(*) FROM scores WHERE s OPERATOR(segment.=) '333';
RESET enable_seqscan;
RESET enable_bitmapscan;
RESET enable_indexscan;
RESET enable_indexonlyscan;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT s, count(*) FROM scores GROUP BY s;
SELECT count(*) AS cells, min(n), max(n) FROM (SELECT s, count(*) AS n FROM scores GROUP BY s) g;
RESET enable_sort;
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM scores a JOIN scores b ON a.s OPERATOR(segment.=) b.s;
SELECT count(*) FROM scores a JOIN scores b ON a.s OPERATOR(segment.=) b.s;
RESET enable_mergejoin;
RESET enable_nestloop;
SELECT count(DISTINCT s) FROM scores;

-- Binary form: three bytes, R, F, M.  Round trip through COPY BINARY, then
-- bytes written as bytea and read back as rfm: each byte is checked.
SELECT segment.rfm_send('543');
SELECT '/tmp/segment_rfm_' || pg_backend_pid() || '.bin' AS binfile \gset
COPY (SELECT s FROM scores ORDER BY s) TO :'binfile' WITH (FORMAT binary);
CREATE TEMP TABLE scores_back (s segment.rfm);
COPY scores_back FROM :'binfile' WITH (FORMAT binary);
SELECT count(*), count(*) FILTER (WHERE segment.rfm_to_int(s) IN (SELECT segment.rfm_to_int(x.s) FROM scores x))
  FROM scores_back;
CREATE TEMP TABLE raw (b bytea);
INSERT INTO raw VALUES ('\x050403');
COPY raw TO :'binfile' WITH (FORMAT binary);
COPY scores_back FROM :'binfile' WITH (FORMAT binary);
UPDATE raw SET b = '\x050a03';
COPY raw TO :'binfile' WITH (FORMAT binary);
COPY scores_back FROM :'binfile' WITH (FORMAT binary);
UPDATE raw SET b = '\x000403';
COPY raw TO :'binfile' WITH (FORMAT binary);
COPY scores_back FROM :'binfile' WITH (FORMAT binary);
UPDATE raw SET b = '\x0504';
COPY raw TO :'binfile' WITH (FORMAT binary);
COPY scores_back FROM :'binfile' WITH (FORMAT binary);
UPDATE raw SET b = '\x05040302';
COPY raw TO :'binfile' WITH (FORMAT binary);
COPY scores_back FROM :'binfile' WITH (FORMAT binary);
SELECT count(*) FROM scores_back;

-- ---------------------------------------------------------------------------
-- Labels.
-- ---------------------------------------------------------------------------

-- The standard map covers each of the 25 cells of five bins exactly once.
SELECT count(*) AS cells, count(*) FILTER (WHERE n = 1) AS covered_once
  FROM (SELECT r, f, (SELECT count(*) FROM segment.rfm_labels l
                       WHERE r BETWEEN l.r_min AND l.r_max AND f BETWEEN l.f_min AND l.f_max) AS n
          FROM generate_series(1, 5) r, generate_series(1, 5) f) c;
SELECT r, string_agg(segment.rfm_label(segment.rfm(r, f, 3)), ' | ' ORDER BY f) AS "F = 1 .. 5"
  FROM generate_series(1, 5) r, generate_series(1, 5) f GROUP BY r ORDER BY r DESC;
-- the label reads only R and F; a score beyond the configured 5 bins is refused
SELECT segment.rfm_label('551'), segment.rfm_label('555'), segment.rfm_check('555');
SELECT segment.rfm_label('563');
SELECT segment.rfm_check('615');

-- ---------------------------------------------------------------------------
-- A store of ten scored customers.  as_of is 2026-06-01 00:00 UTC and the
-- window (as_of - 365 days, as_of].
--
--   customer  last order     orders in window     amount
--   1         1 day ago      6 x 100              600
--   2         5 days         1 x 30               30
--   3         10 d 5 h       100, 50, 50, 50      250
--   4         20 days        2 x 100              200
--   5         30 days        3 x 40               120
--   6         45 days        2 x 50               100
--   7         60 days        4 x 20               80
--   8         100 days       3 x 10               30
--   9         200 days       1 x 30 (and 500 400 days ago, outside) 30
--   10        300 days       1 x 1000             1000
--   11        exactly 365 days ago: the window is open there, not scored
--   12        no orders: not scored
--   13        one order a second after as_of: not scored
-- ---------------------------------------------------------------------------

CREATE TEMP TABLE saved_sources AS SELECT * FROM segment.sources;
CREATE SCHEMA rfm_shop;
CREATE TABLE rfm_shop.customers (id integer PRIMARY KEY, name text NOT NULL);
CREATE TABLE rfm_shop.orders (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES rfm_shop.customers,
    placed_at timestamptz NOT NULL,
    total numeric(10,2) NOT NULL
);
CREATE INDEX ON rfm_shop.orders (customer_id);
SELECT segment.track_customers('rfm_shop.customers');
SELECT segment.track_orders('rfm_shop.orders', customer_column => 'customer_id',
                            amount_column => 'total', time_column => 'placed_at');
INSERT INTO rfm_shop.customers
SELECT g, 'customer ' || g FROM generate_series(1, 13) g;
INSERT INTO rfm_shop.orders (customer_id, placed_at, total)
SELECT c, :'as_of'::timestamptz - ago, total
  FROM (VALUES (1, interval '1 day', 100), (1, '11 days', 100), (1, '21 days', 100),
               (1, '31 days', 100), (1, '41 days', 100), (1, '51 days', 100),
               (2, '5 days', 30),
               (3, '10 days 5 hours', 100), (3, '20 days', 50), (3, '30 days', 50), (3, '40 days', 50),
               (4, '20 days', 100), (4, '30 days', 100),
               (5, '30 days', 40), (5, '40 days', 40), (5, '50 days', 40),
               (6, '45 days', 50), (6, '55 days', 50),
               (7, '60 days', 20), (7, '70 days', 20), (7, '80 days', 20), (7, '90 days', 20),
               (8, '100 days', 10), (8, '110 days', 10), (8, '120 days', 10),
               (9, '200 days', 30), (9, '400 days', 500),
               (10, '300 days', 1000),
               (11, '365 days', 70),
               (13, '-1 second', 90)) v(c, ago, total);

-- ---------------------------------------------------------------------------
-- Configuration: the defaults, then bad configurations, each a clear error
-- that changes nothing.
-- ---------------------------------------------------------------------------

SELECT "window", bins, method, thresholds FROM segment.rfm_config;
SELECT segment.rfm_configure(bins => 0);
SELECT segment.rfm_configure(bins => 10);
SELECT segment.rfm_configure("window" => '-30 days');
SELECT segment.rfm_configure("window" => '0 days');
SELECT segment.rfm_configure(method => 'kmeans');
SELECT segment.rfm_configure(method => NULL);
SELECT segment.rfm_configure(recency_thresholds => '{30,90,180,365}');
SELECT segment.rfm_configure(method => 'fixed');
SELECT segment.rfm_configure(bins => 3, method => 'fixed', recency_thresholds => '{30,90}',
                             frequency_thresholds => '{1,3,5}', monetary_thresholds => '{50,200}');
SELECT segment.rfm_configure(bins => 3, method => 'fixed', recency_thresholds => '{90,30}',
                             frequency_thresholds => '{1,3}', monetary_thresholds => '{50,200}');
SELECT segment.rfm_configure(bins => 3, method => 'fixed', recency_thresholds => '{30,90}',
                             frequency_thresholds => '{2,2}', monetary_thresholds => '{50,200}');
SELECT segment.rfm_configure(bins => 3, method => 'fixed', recency_thresholds => '{30,90}',
                             frequency_thresholds => '{1,3}', monetary_thresholds => '{50,NULL}');
SELECT segment.rfm_configure(bins => 3, method => 'fixed', recency_thresholds => '{{30,90}}',
                             frequency_thresholds => '{1,3}', monetary_thresholds => '{50,200}');
SELECT "window", bins, method, thresholds FROM segment.rfm_config;
-- nothing is scored yet, so there is nothing to rescore with
SELECT segment.rfm_rescore('{1}', :'as_of');

-- ---------------------------------------------------------------------------
-- A value's bin, for refresh and rescoring alike: 1 + the cut points below
-- it, so a value on a cut point takes the lower bin; an empty bin's missing
-- upper bound (NULL) is not counted.
SELECT v, segment._rfm_bin(v, '{10,20,30}') AS bin
  FROM unnest('{5,10,10.5,20,25,30,35}'::numeric[]) v;
SELECT segment._rfm_bin(50, '{10,20,NULL,NULL}') AS above_two_bins,
       segment._rfm_bin(15, '{10,20,NULL,NULL}') AS between, segment._rfm_bin(1, '{}') AS no_cuts;

-- ---------------------------------------------------------------------------
-- quantile, 5 bins.  Cut point k is percentile_cont(k/5) over the ten
-- customers: position 1 + 9k/5 in the sorted values, interpolated.
--   recency  1 5 10 20 30 45 60 100 200 300      -> 9, 26, 51, 120
--   frequency 1 1 1 2 2 3 3 4 4 6                -> 1, 2, 3, 4
--   monetary 30 30 30 80 100 120 200 250 600 1000 -> 30, 92, 152, 320
-- Bin k holds (cut k-1, cut k]: a value on a cut point takes the lower bin
-- (frequency 2 -> F 2, monetary 30 -> M 1).  R counts down: 1 day -> bin 1
-- -> R 5.  By hand:
--   1: 1 d -> R5, 6 -> F5, 600 -> M5   555 Champions
--   2: 5 d -> R5, 1 -> F1, 30 -> M1    511 New Customers
--   3: 10 d -> R4, 4 -> F4, 250 -> M4  444 Loyal Customers
--   4: 20 d -> R4, 2 -> F2, 200 -> M4  424 Potential Loyalists
--   5: 30 d -> R3, 3 -> F3, 120 -> M3  333 Need Attention
--   6: 45 d -> R3, 2 -> F2, 100 -> M3  323 About To Sleep
--   7: 60 d -> R2, 4 -> F4, 80 -> M2   242 At Risk
--   8: 100 d -> R2, 3 -> F3, 30 -> M1  231 At Risk
--   9: 200 d -> R1, 1 -> F1, 30 -> M1  111 Hibernating
--   10: 300 d -> R1, 1 -> F1, 1000 -> M5 115 Hibernating
-- ---------------------------------------------------------------------------

SELECT segment.rfm_refresh(:'as_of');
SELECT customer_id, recency_days, frequency, monetary, score, label
  FROM segment.rfm_scores ORDER BY customer_id::integer;
-- the same, checked against the hand-worked table above
SELECT hand.c, r.score, r.label FROM (VALUES ('1', '555', 'Champions'), ('2', '511', 'New Customers'),
                      ('3', '444', 'Loyal Customers'), ('4', '424', 'Potential Loyalists'),
                      ('5', '333', 'Need Attention'), ('6', '323', 'About To Sleep'),
                      ('7', '242', 'At Risk'), ('8', '231', 'At Risk'),
                      ('9', '111', 'Hibernating'), ('10', '115', 'Hibernating')) hand(c, s, l)
 FULL JOIN segment.rfm_scores r ON r.customer_id = hand.c
 WHERE hand.c IS NULL OR r.customer_id IS NULL
    OR segment.rfm_to_int(r.score) <> segment.rfm_to_int(hand.s::segment.rfm) OR r.label <> hand.l;
SELECT dimension, bin, score, lower_bound, upper_bound, method, bins, "window", as_of
  FROM segment.rfm_thresholds ORDER BY dimension DESC, bin;
-- the cut points are percentile_cont's, computed here independently
WITH v AS (SELECT customer_id, floor(extract(epoch FROM :'as_of'::timestamptz - max(placed_at)) / 86400) AS rec,
                  count(*) AS freq, sum(total) AS mon
             FROM rfm_shop.orders
            WHERE placed_at > :'as_of'::timestamptz - interval '365 days' AND placed_at <= :'as_of'
            GROUP BY customer_id)
SELECT d.dimension, d.cuts = (SELECT array_agg(t.upper_bound ORDER BY t.bin)
                                FROM segment.rfm_thresholds t
                               WHERE t.dimension = d.dimension AND t.bin < 5) AS same
  FROM (SELECT 'recency' AS dimension,
               (percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY rec))::numeric[] AS cuts FROM v
        UNION ALL
        SELECT 'frequency', (percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY freq))::numeric[] FROM v
        UNION ALL
        SELECT 'monetary', (percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY mon))::numeric[] FROM v) d;
-- and the scores equal the plain SQL a user would write (cut points + CASE)
WITH v AS (SELECT customer_id, floor(extract(epoch FROM :'as_of'::timestamptz - max(placed_at)) / 86400) AS rec,
                  count(*) AS freq, sum(total) AS mon
             FROM rfm_shop.orders
            WHERE placed_at > :'as_of'::timestamptz - interval '365 days' AND placed_at <= :'as_of'
            GROUP BY customer_id),
c AS (SELECT percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY rec) AS r,
             percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY freq) AS f,
             percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY mon) AS m FROM v),
plain AS (SELECT v.customer_id::text AS customer_id,
                 100 * CASE WHEN rec <= r[1] THEN 5 WHEN rec <= r[2] THEN 4 WHEN rec <= r[3] THEN 3
                            WHEN rec <= r[4] THEN 2 ELSE 1 END
                 + 10 * CASE WHEN freq <= f[1] THEN 1 WHEN freq <= f[2] THEN 2 WHEN freq <= f[3] THEN 3
                             WHEN freq <= f[4] THEN 4 ELSE 5 END
                 + CASE WHEN mon <= m[1] THEN 1 WHEN mon <= m[2] THEN 2 WHEN mon <= m[3] THEN 3
                        WHEN mon <= m[4] THEN 4 ELSE 5 END AS score
            FROM v, c)
SELECT count(*) AS differences
  FROM (SELECT * FROM plain
        EXCEPT SELECT customer_id, segment.rfm_to_int(score) FROM segment.customer_rfm) d;

-- ---------------------------------------------------------------------------
-- ntile, 5 bins: two customers a tile, by value, ties by the key as text
-- ("10" < "2" < "9").  Recency is all distinct, so R is as above.
--   frequency order 10 2 9 | 4 6 | 5 8 | 3 7 | 1  -> tiles (10 2)(9 4)(6 5)(8 3)(7 1)
--   monetary order  2 8 9 7 6 5 4 3 1 10          -> tiles (2 8)(9 7)(6 5)(4 3)(1 10)
--   1 555, 2 511, 3 444, 4 424, 5 333, 6 333, 7 252, 8 241, 9 122, 10 115
-- Customer 9 gets F 2 while 2 and 10, with the same frequency, get F 1.
-- Upper bounds are each tile's largest value.
-- ---------------------------------------------------------------------------

SELECT segment.rfm_configure(method => 'ntile');
SELECT segment.rfm_refresh(:'as_of');
SELECT customer_id, frequency, monetary, score FROM segment.customer_rfm ORDER BY customer_id::integer;
SELECT dimension, array_agg(upper_bound ORDER BY bin) AS upper_bounds
  FROM segment.rfm_thresholds GROUP BY dimension ORDER BY dimension DESC;
CREATE TEMP TABLE ntile_first AS SELECT customer_id, score FROM segment.customer_rfm;
-- run after run the same, and the same as a plain NTILE query
SELECT segment.rfm_refresh(:'as_of');
SELECT count(*) AS differences
  FROM (SELECT customer_id, segment.rfm_to_int(score) FROM ntile_first
        EXCEPT SELECT customer_id, segment.rfm_to_int(score) FROM segment.customer_rfm) d;
WITH v AS (SELECT customer_id::text AS customer_id,
                  floor(extract(epoch FROM :'as_of'::timestamptz - max(placed_at)) / 86400) AS rec,
                  count(*) AS freq, sum(total) AS mon
             FROM rfm_shop.orders
            WHERE placed_at > :'as_of'::timestamptz - interval '365 days' AND placed_at <= :'as_of'
            GROUP BY customer_id)
SELECT count(*) AS differences
  FROM (SELECT customer_id,
               100 * (6 - ntile(5) OVER (ORDER BY rec, customer_id COLLATE "C"))
               + 10 * ntile(5) OVER (ORDER BY freq, customer_id COLLATE "C")
               + ntile(5) OVER (ORDER BY mon, customer_id COLLATE "C") AS score
          FROM v
        EXCEPT SELECT customer_id, segment.rfm_to_int(score) FROM segment.customer_rfm) d;

-- ---------------------------------------------------------------------------
-- fixed, 3 bins: recency 30, 90 days; frequency 1, 3; monetary 50, 200.  On
-- a threshold, the lower bin: 30 days -> R 3, 3 orders -> F 2, 200 -> M 2.
--   1 333, 2 311, 3 333, 4 322, 5 322, 6 222, 7 232, 8 121, 9 111, 10 113
-- ---------------------------------------------------------------------------

SELECT segment.rfm_configure('180 days', 3, 'fixed', recency_thresholds => '{30,90}',
                             frequency_thresholds => '{1,3}', monetary_thresholds => '{50,200}');
SELECT "window", bins, method, thresholds FROM segment.rfm_config;
-- until the refresh, scores are read with the 5 bins they were computed with
SELECT segment.rfm_check('555');
SELECT segment.rfm_refresh(:'as_of');
-- customers 9 and 10 (200 and 300 days) are outside the 180-day window
SELECT customer_id, recency_days, frequency, monetary, score, label
  FROM segment.rfm_scores ORDER BY customer_id::integer;
SELECT dimension, bin, score, lower_bound, upper_bound FROM segment.rfm_thresholds ORDER BY dimension DESC, bin;
SELECT segment.rfm_label('555');
SELECT segment.rfm_configure("window" => '365 days', bins => 3, method => 'fixed', recency_thresholds => '{30,90}',
                             frequency_thresholds => '{1,3}', monetary_thresholds => '{50,200}');
SELECT segment.rfm_refresh(:'as_of');
SELECT customer_id, score FROM segment.customer_rfm ORDER BY customer_id::integer;
-- one bin: every score is 111, and there are no cut points
SELECT segment.rfm_configure(bins => 1);
SELECT segment.rfm_refresh(:'as_of');
SELECT count(*), min(segment.rfm_to_int(score)), max(segment.rfm_to_int(score)) FROM segment.customer_rfm;
SELECT dimension, bin, score, lower_bound, upper_bound FROM segment.rfm_thresholds ORDER BY dimension DESC;

-- ---------------------------------------------------------------------------
-- Incremental rescoring, back on quantile with 5 bins.  After the refresh:
-- customer 9 orders for 20 two days before as_of (2 days, 2 orders, 50),
-- customer 12 orders for the first time (3 days, 1 order, 75), and
-- customer 10's only order is deleted.  With the stored cut points:
--   9:  R5 (2 <= 9), F2 (2 in (1,2]), M2 (50 in (30,92])   522 Potential Loyalists
--   12: R5, F1, M2 (75)                                      512 New Customers
--   10: no order in the window any more, no score
-- ---------------------------------------------------------------------------

SELECT segment.rfm_configure();
SELECT segment.rfm_refresh(:'as_of');
INSERT INTO rfm_shop.orders (customer_id, placed_at, total)
VALUES (9, :'as_of'::timestamptz - interval '2 days', 20),
       (12, :'as_of'::timestamptz - interval '3 days', 75);
DELETE FROM rfm_shop.orders WHERE customer_id = 10;
SELECT segment.rfm_rescore('{9,10,12}', :'as_of');
SELECT customer_id, recency_days, frequency, monetary, score, label
  FROM segment.rfm_scores ORDER BY customer_id::integer;
-- rescoring never re-ranks: the cut points are those of the refresh
SELECT dimension, array_agg(upper_bound ORDER BY bin) AS upper_bounds
  FROM segment.rfm_thresholds GROUP BY dimension ORDER BY dimension DESC;
-- keys are matched in the key column's type, and nothing to do is fine
SELECT segment.rfm_rescore('{" 9",NULL}', :'as_of'), segment.rfm_rescore('{}', :'as_of'),
       segment.rfm_rescore(NULL, :'as_of');
-- a full refresh with the same cut points (as fixed thresholds) gives the
-- same scores and values as the incremental ones
CREATE TEMP TABLE incremental AS
SELECT customer_id, recency_days, frequency, monetary, segment.rfm_to_int(score) AS score FROM segment.customer_rfm;
-- more than 64 keys take the statement planned for its keys: the same scores
SELECT segment.rfm_rescore(ARRAY(SELECT g::text FROM generate_series(1, 100) g), :'as_of') AS rescored;
SELECT count(*) AS differences
  FROM ((SELECT * FROM incremental
         EXCEPT SELECT customer_id, recency_days, frequency, monetary, segment.rfm_to_int(score) FROM segment.customer_rfm)
        UNION ALL
        (SELECT customer_id, recency_days, frequency, monetary, segment.rfm_to_int(score) FROM segment.customer_rfm
         EXCEPT SELECT * FROM incremental)) d;
SELECT segment.rfm_configure(method => 'fixed',
    recency_thresholds => (SELECT array_agg(upper_bound ORDER BY bin) FROM segment.rfm_thresholds
                            WHERE dimension = 'recency' AND bin < 5),
    frequency_thresholds => (SELECT array_agg(upper_bound ORDER BY bin) FROM segment.rfm_thresholds
                              WHERE dimension = 'frequency' AND bin < 5),
    monetary_thresholds => (SELECT array_agg(upper_bound ORDER BY bin) FROM segment.rfm_thresholds
                             WHERE dimension = 'monetary' AND bin < 5));
SELECT segment.rfm_refresh(:'as_of');
SELECT (SELECT count(*) FROM (SELECT * FROM incremental
                              EXCEPT SELECT customer_id, recency_days, frequency, monetary,
                                            segment.rfm_to_int(score) FROM segment.customer_rfm) a) AS only_incremental,
       (SELECT count(*) FROM (SELECT customer_id, recency_days, frequency, monetary,
                                     segment.rfm_to_int(score) FROM segment.customer_rfm
                              EXCEPT SELECT * FROM incremental) b) AS only_full;

-- A refresh that fails half-way (here, a trigger refusing customer 7's row
-- after other rows were rewritten) leaves the previous scores.
CREATE TEMP TABLE before_failure AS
SELECT customer_id, segment.rfm_to_int(score) AS score, as_of FROM segment.customer_rfm;
CREATE FUNCTION pg_temp.refuse_7() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.customer_id = '7' THEN
        RAISE EXCEPTION 'simulated failure';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse_7 BEFORE INSERT OR UPDATE ON segment.customer_rfm
    FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_7();
SELECT segment.rfm_configure();
SELECT segment.rfm_refresh(:'as_of'::timestamptz + interval '1 day');
DROP TRIGGER refuse_7 ON segment.customer_rfm;
SELECT count(*) AS differences
  FROM (SELECT customer_id, segment.rfm_to_int(score), as_of FROM segment.customer_rfm
        EXCEPT SELECT * FROM before_failure) d;
SELECT count(*), min(as_of) FROM segment.customer_rfm;
-- a tracked column renamed since is named in the error
BEGIN;
ALTER TABLE rfm_shop.orders RENAME COLUMN total TO amount;
SELECT segment.rfm_refresh(:'as_of');
ROLLBACK;

-- ---------------------------------------------------------------------------
-- The grid for BI tools, over the scores of the rescoring section: one row per R and F.
-- ---------------------------------------------------------------------------

SELECT * FROM segment.rfm_grid WHERE customers > 0 ORDER BY r DESC, f DESC;
SELECT count(*) AS cells, sum(customers) AS customers, sum(revenue) AS revenue FROM segment.rfm_grid;

-- An edited map: the lowest priority wins where labels overlap, and
-- inserting a label that exists replaces it.
INSERT INTO segment.rfm_labels VALUES ('Whales', 1, 5, 5, 5, 1);
SELECT segment.rfm_label('555'), segment.rfm_label('155'), segment.rfm_label('545');
INSERT INTO segment.rfm_labels VALUES ('Whales', 5, 5, 5, 5, 1);
SELECT segment.rfm_label('555'), segment.rfm_label('155');
DELETE FROM segment.rfm_labels WHERE label = 'Whales';
SELECT segment.rfm_label('555');
INSERT INTO segment.rfm_labels VALUES ('Nobody', 1, 9, 0, 9, 1);
INSERT INTO segment.rfm_labels VALUES ('Nobody', 3, 2, 1, 1, 1);

-- Put back what other tests expect: no scores, the default configuration,
-- and the sources as they were.
DELETE FROM segment.customer_rfm;
DELETE FROM segment.rfm_thresholds;
SELECT segment.rfm_configure();
DELETE FROM segment.sources;
INSERT INTO segment.sources SELECT * FROM saved_sources;
DROP SCHEMA rfm_shop CASCADE;
