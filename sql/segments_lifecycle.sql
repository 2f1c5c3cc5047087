-- Redefinition, drop, dependency order, cycles, as_of, key types, groups,
-- tags, history; runs after segments.sql on its small store.
\set SHOW_CONTEXT never
\set as_of '2026-11-01 00:00:00+00'
SET timezone = 'UTC';

-- as_of pins the clock: Ivo's order at 00:00:01 is not there yet, then is.
SELECT segment.define('big_spenders', 'spent() >= 500', as_of => :'as_of');
SELECT segment.is_member(9, 'big_spenders');
SELECT * FROM segment.refresh('big_spenders', as_of => '2026-11-01 00:00:02+00');
SELECT segment.is_member(9, 'big_spenders');
-- and back in time: who was a big spender on 1 August?  (History is kept
-- in as_of time, so this stay "ends" before it began.)
SELECT * FROM segment.refresh('big_spenders', as_of => '2026-08-01 00:00:00+00');
SELECT array_agg(customer_id ORDER BY customer_id) FROM segment.members WHERE segment = 'big_spenders';

-- Redefinition: the new rule replaces the old and the membership follows.
SELECT segment.define('big_spenders', 'spent() >= 1000', as_of => :'as_of');
SELECT rule FROM segment.status WHERE segment = 'big_spenders';
SELECT array_agg(customer_id ORDER BY customer_id) FROM segment.members WHERE segment = 'big_spenders';
-- every entry and exit is in the change log, with its cause
SELECT customer_id, kind, at, cause FROM segment.changes WHERE segment = 'big_spenders' ORDER BY id;
SELECT customer_id, entered_at, exited_at FROM segment.history
 WHERE segment = 'big_spenders' ORDER BY customer_id, entered_at;

-- Dependency order: a refresh of a segment refreshes the segments that read it.
SELECT segment.define('vip_big', 'in_segment(''big_spenders'') AND tagged(''vip'')', as_of => :'as_of');
SELECT segment.define('big_spenders', 'spent() >= 100', as_of => :'as_of');
SELECT array_agg(customer_id ORDER BY customer_id) FROM segment.members WHERE segment = 'vip_big';
SELECT * FROM segment.refresh('big_spenders', as_of => :'as_of');

-- A rule too long to be copied into the rules that read it (over 16 kB
-- compiled) is evaluated in a pass of its own, before its readers, which
-- read what it stored: redefined from Skopje to Warsaw, its reader follows.
SELECT segment.define('long_list', 'city IN (' || (SELECT string_agg(quote_literal('City ' || g), ', ')
                                                     FROM generate_series(1, 1500) g) || ', ''Skopje'')',
                      as_of => :'as_of');
SELECT segment.define('long_list_reader', 'in_segment(''long_list'') AND NOT tagged(''vip'')', as_of => :'as_of');
SELECT segment.define('long_list', replace((SELECT rule::text FROM segment.segments WHERE name = 'long_list'),
                                           '''Skopje''', '''Warsaw'''), as_of => :'as_of');
SELECT array_agg(customer_id ORDER BY customer_id) FROM segment.members WHERE segment = 'long_list_reader';
SELECT count(*) AS differences FROM segment.verify(:'as_of');
SELECT segment.drop_segment('long_list_reader'), segment.drop_segment('long_list');

-- Cycles are refused, directly, through other segments, and through tags;
-- the refused definition changes nothing.
SELECT segment.define('big_spenders', 'in_segment(''big_spenders'')');
SELECT segment.define('big_spenders', 'in_segment(''vip_big'')');
SELECT segment.define('tagger', 'tagged(''big'')', tag => 'big');
SELECT segment.define('tag_keeper', 'in_segment(''big_spenders'') AND city = ''Skopje''', tag => 'vip');
SELECT segment.define('big_spenders', 'spent() >= 100 AND NOT tagged(''vip'')');
SELECT rule FROM segment.status WHERE segment = 'big_spenders';

-- A segment can keep a tag on its members; tagged() sees it.
SELECT array_agg(customer_id ORDER BY customer_id) FROM segment.customer_tags
 WHERE tag = 'vip' AND source = 'segment tag_keeper';
SELECT array_agg(customer_id ORDER BY customer_id) FROM segment.members WHERE segment = 'vip_big';

-- Hand-set tags and groups re-evaluate the segments that read them.
SELECT segment.define('staff', 'in_group(''employees'')', as_of => :'as_of');
SELECT segment.add_to_group('employees', 2), segment.add_to_group('employees', 2);
SELECT segment.is_member(2, 'staff');
SELECT segment.remove_from_group('employees', 2);
SELECT segment.is_member(2, 'staff');
SELECT segment.drop_group('employees');
SELECT segment.add_to_group('no_such_group', 2);

-- Drop: refused while read by others, logged as exits when done.
SELECT segment.drop_segment('big_spenders');
SELECT segment.drop_segment('vip_big');
SELECT segment.drop_segment('vip_big');
SELECT count(*) FROM segment.changes WHERE segment = 'vip_big' AND kind = 'exit' AND cause = 'definition';
SELECT segment.drop_segment('tag_keeper');
SELECT segment.drop_segment('loyal_vips');
SELECT segment.drop_segment('tag_keeper');
SELECT segment.drop_segment('staff');
-- a dropped segment's membership rows go with it (membership has no foreign key)
SELECT count(*) AS orphans FROM segment.membership m
 WHERE NOT EXISTS (SELECT 1 FROM segment.segments s WHERE s.id = m.segment_id);

-- A define that fails leaves the previous definition and membership as they were.
CREATE TEMP TABLE before AS SELECT * FROM segment.membership;
SELECT segment.define('big_spenders', 'spent() >= ''x''');
SELECT segment.define('big_spenders', 'citty = ''Skopje''');
SELECT rule FROM segment.status WHERE segment = 'big_spenders';
-- Each bad definition, one per line: the error names the thing and where it is.
SELECT segment.define('bad', 'city > 5');
SELECT segment.define('bad', 'first_order < ''2026-01-01''');
SELECT segment.define('bad', 'spent()');
SELECT segment.define('bad', 'orders(statuss = ''paid'') > 0');
SELECT segment.define('bad', 'bought(colour = ''red'') > 0');
SELECT segment.define('bad', 'events(''page_view'', urll LIKE ''/blog/%'') > 0');
SELECT segment.define('bad', 'sum_events(''session'', kind) > 1');
SELECT segment.define('bad', 'hour(birth_date) > 3');
SELECT segment.define('bad', 'orders(age(birth_date) > 3) > 0');
SELECT segment.define('bad', 'age(city) > 30');
SELECT segment.define('bad', 'in_segment(''lyoal'')');
SELECT segment.define('bad', 'in_group(''nope'')');
SELECT segment.define('bad', 'orders(last 999999 days) > 0');
SELECT segment.define('bad', 'rfm = ''5x3''');
SELECT segment.define('bad', 'spent() > 0', mode => 'sometimes');
SELECT segment.track_customers('shop.nope');
SELECT segment.track_customers('shop.customers', id_column => 'idd');
SELECT segment.track_customers('shop.customers', id_column => 'lat');
-- a key must name one customer: first_name is text, but not unique
SELECT segment.track_customers('shop.customers', id_column => 'first_name');
SELECT segment.track_orders('shop.orders', time_column => 'status');
SELECT segment.track_orders('shop.orders', amount_column => 'channel', time_column => 'placed_at');
-- no index starts with the column maintenance reads a table by: tracked,
-- with a warning that gives the index to create
BEGIN;
DROP INDEX shop.orders_customer_id_idx;
SELECT segment.track_orders('shop.orders', time_column => 'placed_at');
ROLLBACK;
SELECT count(*) AS changed FROM (SELECT * FROM before EXCEPT SELECT * FROM segment.membership
                                 UNION ALL
                                 SELECT * FROM segment.membership EXCEPT SELECT * FROM before) d;
SELECT segment.drop_segment('big_spenders');

-- Customer keys of type integer, uuid and text.
CREATE SCHEMA keys;
CREATE TABLE keys.c_int (id integer PRIMARY KEY, city text);
CREATE TABLE keys.c_uuid (id uuid PRIMARY KEY, city text);
CREATE TABLE keys.c_text (code text PRIMARY KEY, city text);
INSERT INTO keys.c_int VALUES (1, 'A'), (2, 'B');
INSERT INTO keys.c_uuid VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'A'), ('b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', 'B');
INSERT INTO keys.c_text VALUES ('ana@example.com', 'A'), ('bob@example.com', 'B');
SET client_min_messages = warning;
DROP EXTENSION segment CASCADE;
CREATE EXTENSION segment;
RESET client_min_messages;
SELECT segment.track_customers('keys.c_int');
SELECT segment.define('in_a', 'city = ''A''');
SELECT segment.is_member(1, 'in_a'), segment.is_member(2, 'in_a');
SELECT segment.track_customers('keys.c_uuid');
SELECT * FROM segment.refresh('in_a');
SELECT segment.is_member('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, 'in_a');
SELECT segment.track_customers('keys.c_text', id_column => 'code');
SELECT * FROM segment.refresh('in_a');
SELECT segment.segments_of('ana@example.com'::text);
SELECT segment.drop_segment('in_a');
SET client_min_messages = warning;
DROP SCHEMA keys CASCADE;
RESET client_min_messages;
