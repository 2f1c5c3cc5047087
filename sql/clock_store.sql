-- The clock's store: counts and sums kept per customer as of the last tick,
-- moved by the rows near window edges.  After every step it must equal the
-- store built afresh, and the clock's membership a full recompute.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS segment CASCADE;
CREATE EXTENSION segment;
\set QUIET on
\i test/fixtures/small_store.sql
\set QUIET off
RESET client_min_messages;
SET timezone = 'UTC';
SELECT segment.track_customers('shop.customers');
SELECT segment.track_orders('shop.orders', time_column => 'placed_at');
SELECT segment.track_products('shop.products');
SELECT segment.track_order_items('shop.order_items', quantity_column => 'quantity', price_column => 'price');
SELECT segment.track_events('shop.email_events', time_column => 'at');

-- Arrays compare as if missing elements, a missing array and a missing row
-- were zeros.
CREATE FUNCTION pg_temp.same(a numeric[], b numeric[]) RETURNS boolean LANGUAGE sql AS $$
    SELECT COALESCE(bool_and(COALESCE(a[i], 0) = COALESCE(b[i], 0)), true)
      FROM generate_series(1, GREATEST(cardinality(a), cardinality(b), 0)) i
$$;
-- A move adds what moved element-wise, a missing element or array as 0.
SELECT segment._counts_add('{1,2,NULL}', '{10,NULL,NULL,4}') AS both,
       segment._counts_add(NULL, '{1,NULL}') AS one, segment._counts_add(NULL, NULL) AS neither;
SELECT segment._counts_add('{{1}}', '{1}');

-- The customers whose kept features differ from the store built afresh at
-- the store's time (stale rows aside: they are built again before use).
CREATE FUNCTION pg_temp.drift() RETURNS TABLE (customer_id text, kept text, built text)
LANGUAGE plpgsql AS $$
DECLARE
    t timestamptz := (SELECT s.as_of FROM segment.clock_store s);
BEGIN
    CREATE TEMP TABLE kept ON COMMIT DROP AS SELECT * FROM segment.clock_features;
    CREATE TEMP TABLE kept_stale ON COMMIT DROP AS SELECT * FROM segment.clock_stale;
    DELETE FROM segment.clock_store;
    PERFORM segment._clock_store_sync(t, true);
    RETURN QUERY
    SELECT COALESCE(k.customer_id, b.customer_id), format('%s %s %s', k.fo, k.fi, k.fe),
           format('%s %s %s', b.fo, b.fi, b.fe)
      FROM kept k FULL JOIN segment.clock_features b ON b.customer_id = k.customer_id
     WHERE NOT EXISTS (SELECT 1 FROM kept_stale s WHERE s.customer_id = COALESCE(k.customer_id, b.customer_id))
       AND NOT (pg_temp.same(k.fo, b.fo) AND pg_temp.same(k.fi, b.fi) AND pg_temp.same(k.fe, b.fe));
    DROP TABLE kept, kept_stale;
END
$$;

-- Windows of every kind; order_months() over a short window, kept as counts
-- per calendar month; and max_order(), which no row count can keep and the
-- clock still evaluates from the orders.
SELECT segment.define('recent', 'orders(last 30 days) >= 1', as_of => '2026-11-01');
SELECT segment.define('spenders', 'spent(last 90 days) >= 300', as_of => '2026-11-01');
SELECT segment.define('shoe_buyers', 'bought(category = ''Shoes'', last 60 days) >= 1', as_of => '2026-11-01');
SELECT segment.define('acme_value', 'spent_on(brand = ''Acme'', last 6 months) >= 500', as_of => '2026-11-01');
SELECT segment.define('lapsed_openers', 'events(''email_open'', between 120 and 60 days ago) >= 1'
                      ' AND events(''email_open'', last 60 days) = 0', as_of => '2026-11-01');
SELECT segment.define('fixed_window', 'orders(between 2026-10-01 and 2026-12-31) >= 1', as_of => '2026-11-01');
SELECT segment.define('small_only', 'max_order() < 50', as_of => '2026-11-01');
SELECT segment.define('regulars', 'order_months(last 3 months) >= 2', as_of => '2026-11-01');

-- Nothing is stored until a refresh of every segment (or a tick) builds it.
SELECT count(*) FROM segment.clock_store;
SELECT count(*) FROM segment.refresh(as_of => '2026-11-01');
SELECT as_of FROM segment.clock_store;
-- one element per count or sum, one per month a 3-month window can touch
-- (4, the months modulo 4), none for max_order(); and the time zone
SELECT split_part(line, ' ', 1) AS source, count(*) AS features
  FROM segment.clock_store, regexp_split_to_table(rtrim(signature, E'\n'), E'\n') line
 GROUP BY 1 ORDER BY 1;
SELECT customer_id, fo, fi, fe FROM segment.clock_features ORDER BY customer_id::int;
-- a second refresh leaves a current store alone
SELECT segment._clock_store_sync('2026-11-05', true);
SELECT as_of FROM segment.clock_store;

-- The clock moves the store, and gives what a full recompute gives, from a
-- day to months, forward and back.
SELECT * FROM segment.tick('2026-11-02') ORDER BY segment;
SELECT as_of FROM segment.clock_store;
SELECT * FROM pg_temp.drift();
SELECT * FROM segment.verify('2026-11-02');
-- The clock reads its counts from the store, not the orders: a count
-- doctored by hand shows (Ana's last order leaves the 30 days by 25 Nov,
-- which moves her doctored count from 6 to 5: no comparison changes, and
-- the clock does not revisit her), until the store is built again and a
-- refresh mends membership.
UPDATE segment.clock_features SET fo[1] = fo[1] + 5 WHERE customer_id = '1';
SELECT count(*) FROM segment.tick('2026-11-25');
SELECT segment.is_member(1, 'recent');
SELECT * FROM segment.verify('2026-11-25');
SELECT * FROM pg_temp.drift();
SELECT count(*) FROM segment.refresh(as_of => '2026-11-25');
SELECT * FROM segment.verify('2026-11-25');
SELECT count(*) FROM segment.tick('2026-12-01');
SELECT * FROM pg_temp.drift();
SELECT * FROM segment.verify('2026-12-01');
SELECT count(*) FROM segment.tick('2027-03-15');
SELECT * FROM pg_temp.drift();
SELECT * FROM segment.verify('2027-03-15');
SELECT count(*) FROM segment.tick('2026-11-20');
SELECT * FROM pg_temp.drift();
SELECT * FROM segment.verify('2026-11-20');
-- The clock reads months from the store too: Ivo, with orders in two of the
-- last months, doctored to have none, leaves regulars when the clock
-- evaluates him, until the store is built again and a refresh mends it.
SELECT segment.is_member(9, 'regulars'), fo[4:7] FROM segment.clock_features WHERE customer_id = '9';
UPDATE segment.clock_features SET fo[4:7] = '{0,0,0,0}' WHERE customer_id = '9';
SELECT entered, exited FROM segment._apply(ARRAY(SELECT id FROM segment.segments WHERE name = 'regulars'),
                                           '2026-11-20', 'clock', '{9}');
SELECT * FROM segment.verify('2026-11-20');
SELECT count(*) FROM pg_temp.drift();
SELECT count(*) FROM segment.refresh(as_of => '2026-11-20');
SELECT * FROM segment.verify('2026-11-20');

-- Windows and months are reckoned in the session's time zone: a store kept
-- in another is built again, not read.
SET timezone = 'Pacific/Auckland';
SELECT segment._clock_store_sync('2026-11-20', true);
SELECT * FROM pg_temp.drift();
SET timezone = 'UTC';
SELECT segment._clock_store_sync('2026-11-20', true);

-- Data changes.  Maintenance evaluates at now() or the segments' time, if
-- later: a tick far ahead keeps this test from depending on today's date.
SELECT count(*) FROM segment.tick('2029-12-31');
SELECT * FROM pg_temp.drift();
-- A row newer than the store's time leaves the customer's row as it is
-- (the next move counts it); an older one, an update or a delete, and any
-- order item, mark the row stale, to be built again when it is read.
INSERT INTO shop.orders VALUES (1101, 3, '2030-01-10 10:00', 400, 'paid', 'web');
SELECT customer_id, EXISTS (SELECT 1 FROM segment.clock_stale s WHERE s.customer_id = f.customer_id) AS stale
  FROM segment.clock_features f WHERE customer_id = '3';
INSERT INTO shop.orders VALUES (1102, 5, '2029-12-20 10:00', 400, 'paid', 'web'),
                               (1103, 6, '2029-11-20 10:00', 90, 'paid', 'web');
INSERT INTO shop.email_events (customer_id, kind, at) VALUES (10, 'email_open', '2029-11-01 08:00');
UPDATE shop.orders SET placed_at = '2029-12-01 10:00' WHERE id = 402;
DELETE FROM shop.order_items WHERE order_id = 702;
INSERT INTO shop.order_items (order_id, product_id, quantity, price) VALUES (1101, 1, 1, 120), (1103, 2, 1, 90);
SELECT customer_id FROM segment.clock_stale ORDER BY customer_id::int;
SELECT * FROM segment.tick('2030-01-15') ORDER BY segment;
SELECT * FROM pg_temp.drift();
SELECT * FROM segment.verify('2030-01-15');
-- customers' own columns are not in the store
UPDATE shop.customers SET city = 'Ohrid' WHERE id = 2;
SELECT count(*) FROM segment.clock_stale;

-- A new rule changes what is stored: the next tick builds it again.
INSERT INTO shop.email_events (customer_id, kind, at, duration_s)
VALUES (7, 'session', '2030-01-14 08:00', 700);
SELECT segment.define('long_sessions', 'sum_events(''session'', duration_s, last 14 days) >= 600',
                      as_of => '2030-01-15');
SELECT count(*) FROM segment.clock_store;
SELECT * FROM segment.tick('2030-02-01') ORDER BY segment;
SELECT as_of FROM segment.clock_store;
SELECT * FROM pg_temp.drift();
SELECT * FROM segment.verify('2030-02-01');

-- Emptying a tracked table drops the store, to be built again.
TRUNCATE shop.email_events;
SELECT count(*) FROM segment.clock_store;
SELECT count(*) FROM segment.tick('2030-02-02');
SELECT * FROM pg_temp.drift();
SELECT * FROM segment.verify('2030-02-02');

-- With nothing a row count can keep, nothing is stored.
SELECT count(*) FROM (SELECT segment.drop_segment(name) FROM segment.segments
                       WHERE name <> 'small_only' ORDER BY id DESC) d;
SELECT segment._clock_store_sync('2030-02-03', false);
SELECT count(*) FROM segment.clock_store;
SELECT count(*) FROM segment.tick('2030-02-03');
SELECT * FROM segment.verify('2030-02-03');

-- Birthdays: the clock looks first for customers born in a month of the
-- days it moves over, then at their age.  Born on 29 February, Kiril turns
-- 26 on 1 March of a common year; a tick over the month's end finds him.
INSERT INTO shop.customers (id, first_name, birth_date) VALUES (11, 'Kiril', '2004-02-29');
SELECT segment.define('aged_26', 'age(birth_date) >= 26', as_of => '2030-02-03');
SELECT segment, entered, exited FROM segment.tick('2030-02-28') WHERE segment = 'aged_26';
SELECT segment.is_member(11, 'aged_26');
SELECT segment, entered, exited FROM segment.tick('2030-03-01 12:00') WHERE segment = 'aged_26';
SELECT segment.is_member(11, 'aged_26');
SELECT * FROM segment.verify('2030-03-01 12:00');

-- The clock revisits a customer for a row near a window's edge only if some
-- rule of the segments it moves counts that row.  Openers and clickers end
-- their windows alike and are revisited together, for either kind; a page
-- view no rule counts brings no one.  Blog fans count blog pages only;
-- visitors count any event, so the store moves by every row near their edge.
INSERT INTO shop.email_events (customer_id, kind, at, url) VALUES
 (1, 'email_open',  '2030-01-30 18:00', NULL),
 (2, 'page_view',   '2030-01-30 18:00', '/shop'),
 (3, 'email_click', '2030-01-30 18:00', NULL),
 (4, 'page_view',   '2030-02-22 18:00', '/blog/x'),
 (5, 'page_view',   '2030-02-22 18:00', '/shop/y'),
 (6, 'session',     '2030-02-15 18:00', NULL);
SELECT segment.define('openers', 'events(''email_open'', last 30 days) >= 1', as_of => '2030-03-01 12:00');
SELECT segment.define('clickers', 'events(''email_click'', last 30 days) >= 1', as_of => '2030-03-01 12:00');
SELECT segment.define('blog_fans', 'events(''page_view'', last 7 days, url LIKE ''/blog/%'') >= 1',
                      as_of => '2030-03-01 12:00');
SELECT segment.define('visitors', 'events(last 14 days) >= 1', as_of => '2030-03-01 12:00');
SELECT count(*) FROM segment.tick('2030-03-01 12:00');
SELECT * FROM segment.tick('2030-03-02 12:00') WHERE segment IN ('openers', 'clickers', 'blog_fans', 'visitors')
 ORDER BY segment;
SELECT * FROM pg_temp.drift();
SELECT * FROM segment.verify('2030-03-02 12:00');
