-- The main job on a demo store: track its tables, define the 16 cases as
-- segments, refresh them all, and report.  Run by scripts/demo.sh after
-- test/bench/generate.sql has made the store (data "now": 2026-11-01).
\set ON_ERROR_STOP on
\set as_of '2026-11-01 00:00:00+00'
\timing off
SET client_min_messages = warning;
SET timezone = 'UTC';   -- the demo store's hours are UTC
CREATE EXTENSION IF NOT EXISTS segment;

\echo '== 1. Tell segment where the store keeps its data'
\i demo/track_store.sql

\echo '== 2. Rules are checked and printed in canonical form'
SELECT 'orders( status=''returned'' ,Last 30 days ) >= 1 and (city = ''Skopje'' and newsletter)'::segment.rule;

\echo '== 3. Static groups, tags and points, set by hand'
SELECT segment.create_group('employees', 'staff accounts');
SELECT count(*) AS added_to_employees FROM (
    SELECT segment.add_to_group('employees', id) FROM shop.customers WHERE email LIKE '%7@%' LIMIT 50) x;
SELECT count(*) AS tagged_vip FROM (
    SELECT segment.tag(id, 'vip') FROM shop.customers WHERE id % 97 = 0) x;
SELECT count(*) AS given_points FROM (
    SELECT segment.add_points(id, 150, 'launch bonus', at => '2026-10-15')
      FROM shop.customers WHERE id % 89 = 0) x;

\echo '== 4. RFM: recency, frequency and monetary scores for every customer who ordered in the last year'
SELECT segment.rfm_refresh(:'as_of') AS customers_scored;
SELECT label, count(*) AS customers, round(avg(monetary), 2) AS avg_monetary
  FROM segment.rfm_scores GROUP BY label ORDER BY customers DESC;

\echo '== 5. The 16 cases as segments'
\i demo/cases.sql
INSERT INTO cases VALUES
    (15, 'champions',   'rfm_segment = ''Champions''',                              'RFM champions'),
    (15, 'at_risk_big', 'rfm_segment IN (''At Risk'', ''Can''''t Lose Them'') AND rfm.m >= 4', 'valuable customers slipping away'),
    (15, 'points_100',  'score >= 100',                                             'loyalty points');
SELECT name, segment.define(name, rule, description => description, as_of => :'as_of') AS members
  FROM cases ORDER BY n, name;

\echo '== 6. A full refresh of all segments in one pass (nothing changed, so no entries or exits)'
\timing on
SELECT * FROM segment.refresh(as_of => :'as_of');
\timing off

\echo '== 7. Report: members, share of customers, revenue in the last 365 days'
SELECT * FROM segment.report(as_of => :'as_of');

\echo '== 8. One customer: which segments, and is she loyal?'
SELECT id, segment.segments_of(id), segment.is_member(id, 'loyal') AS loyal
  FROM shop.customers ORDER BY id LIMIT 3;

\echo '== 9. The largest overlaps between segments'
SELECT * FROM segment.overlaps ORDER BY both_members DESC LIMIT 5;

\echo '== 10. Keeping current: an order arrives, and its customer moves in the same transaction'
BEGIN;
SELECT segment.segments_of(3) AS before;
INSERT INTO shop.orders (id, customer_id, placed_at, total, status, channel)
VALUES (999999999, 3, now(), 2500, 'paid', 'web');
SELECT segment.segments_of(3) AS after;
SELECT segment, kind, cause FROM segment.changes WHERE customer_id = '3' ORDER BY id DESC LIMIT 5;
ROLLBACK;

\echo '== 11. The clock: a week later, who left and who entered?  (tick revisits only customers whose rules the week can have changed)'
\timing on
SELECT * FROM segment.tick(timestamptz :'as_of' + interval '7 days') WHERE entered + exited > 0;
\timing off

\echo '== 12. RFM grid for BI tools'
SELECT r, f, customers, revenue FROM segment.rfm_grid ORDER BY r DESC, f DESC LIMIT 10;
