-- tick() revisits a customer when the move of the clock's store changed the
-- truth of a comparison in a segment's rule, not for every row near a
-- window's edge; and by their rows, as before, the customers whose
-- membership is not the rule at the store's time: evaluated since by
-- maintenance, or with a stale row of the store.  Times are relative to
-- now(), since maintenance evaluates at now().
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS segment CASCADE;
DROP SCHEMA IF EXISTS flip CASCADE;
CREATE EXTENSION segment;
RESET client_min_messages;
SET timezone = 'UTC';
CREATE SCHEMA flip;
CREATE TABLE flip.customers (id integer PRIMARY KEY, name text NOT NULL, level integer NOT NULL DEFAULT 1);
CREATE TABLE flip.orders (id integer PRIMARY KEY, customer_id integer NOT NULL REFERENCES flip.customers,
                          placed_at timestamptz NOT NULL, total numeric(10,2) NOT NULL);
CREATE INDEX ON flip.orders (customer_id);
CREATE INDEX ON flip.orders (placed_at);
CREATE TABLE flip.events (customer_id integer NOT NULL REFERENCES flip.customers, kind text NOT NULL,
                          at timestamptz NOT NULL);
CREATE INDEX ON flip.events (customer_id);
CREATE INDEX ON flip.events (at);
SELECT segment.track_customers('flip.customers');
SELECT segment.track_orders('flip.orders', time_column => 'placed_at', amount_column => 'total');
SELECT segment.track_events('flip.events', time_column => 'at');

-- The store and the segments stand a day ago (s); the tick goes to a day
-- from now (a).  An order 29.8 days old now is in a 30-day window at s and
-- now, and out of it at a.
SELECT now() - interval '1 day' AS s, now() + interval '1 day' AS a, now() - interval '29.8 days' AS edge,
       now() - interval '30.8 days' AS edge31 \gset
INSERT INTO flip.customers (id, name, level) VALUES
 (1, 'Ana', 1), (2, 'Ben', 1), (3, 'Cai', 1), (4, 'Dan', 1), (5, 'Eve', 1), (6, 'Fay', 1), (7, 'Hal', 1);
INSERT INTO flip.orders VALUES
 (11, 1, :'edge', 10), (12, 1, now() - interval '10 days', 10), (13, 1, now() - interval '5 days', 10),
 (21, 2, :'edge', 10),
 (31, 3, :'edge', 10),
 (41, 4, :'edge', 10),
 (61, 6, :'edge31', 10);
INSERT INTO flip.events VALUES (7, 'open', :'edge');
SELECT segment.define('active', 'orders(last 30 days) >= 1', as_of => :'s');
SELECT segment.define('one_order', 'orders(last 30 days) = 1', as_of => :'s');
SELECT segment.define('big_or_eve', 'spent(last 30 days) >= 15 OR name = ''Eve''', as_of => :'s');
-- a count compared with a customer's column: no move of the store can tell
-- (its window ends elsewhere, so that it is a group of its own)
SELECT segment.define('at_level', 'orders(last 31 days) >= level', as_of => :'s');
-- Hal's one open is 30 days old only at a: the store has no row of his
-- until the move adds one
SELECT segment.define('warming', 'events(''open'', between 60 and 30 days ago) >= 1', as_of => :'s');
-- the first refresh of every segment builds the store, at their time
SELECT count(*) FROM segment.refresh(as_of => :'s');
SELECT as_of = :'s' AS store_at_s FROM segment.clock_store;
SELECT segment, array_agg(customer_id::int ORDER BY customer_id::int) FROM segment.members GROUP BY 1 ORDER BY 1;

-- Between the store's time and the tick, maintenance evaluates Cai with a
-- new order (now, newer than the store), and Dan with an order dated before
-- the store's time, which marks his row of it stale.
INSERT INTO flip.orders VALUES (32, 3, now() - interval '1 hour', 10);
INSERT INTO flip.orders VALUES (42, 4, :'s'::timestamptz - interval '3 days', 10);
SELECT segment.is_member(3, 'one_order') AS cai_one, segment.is_member(4, 'one_order') AS dan_one;
SELECT customer_id FROM segment.clock_stale;
SELECT count(*) AS hal_rows FROM segment.clock_features WHERE customer_id = '7';

-- Every customer but Eve has an order at the 30-day edge (Fay's at the
-- 31-day one too).  Ana has three: the move takes her from 3 to 2 orders
-- and her spending from 30 to 20, which changes no comparison, and she is
-- not revisited.  Ben and Fay go from 1 to 0 and leave active and
-- one_order.  Cai's row of the store goes from 1 to 1 (an order left, one
-- came), yet maintenance took him out of one_order at 2: he is revisited by
-- his rows, and so is Dan, whose row is stale.  at_level cannot be told:
-- its group is revisited by rows near its edge, Fay's.  Hal's new row of
-- the store counts his open: he is revisited and enters warming.
SELECT * FROM segment.tick(:'a') ORDER BY segment;
SELECT * FROM segment.verify(:'a');
SELECT segment, array_agg(customer_id::int ORDER BY customer_id::int) FROM segment.members GROUP BY 1 ORDER BY 1;
-- what the move told, per segment: only the rules of counts and constants
SELECT s.name, f.customers FROM segment.clock_flips f JOIN segment.segments s ON s.id = f.segment_id ORDER BY 1;
SELECT count(*) FROM segment.clock_stale;

-- A segment brought to another time alone: the next tick revisits its
-- group by rows near the edges, as one that cannot tell.
SELECT now() + interval '40 days' AS b, now() + interval '1 day 1 hour' AS a1 \gset
SELECT count(*) FROM segment.refresh('one_order', as_of => :'a1');
SELECT * FROM segment.tick(:'b') ORDER BY segment;
SELECT * FROM segment.verify(:'b');

-- Back in time, the store moves and the clock is exact, but the move's
-- flips are not used (they assume the clock goes on).
SELECT * FROM segment.tick(:'a') ORDER BY segment;
SELECT * FROM segment.verify(:'a');

-- whose rows near an edge the clock's query reads is one of three
SELECT segment._tick_sql(ARRAY[1], true, 'some');
