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
SELECT segment.track_customers('shop.customers', id_column => 'id');
SELECT segment.track_orders('shop.orders', customer_column => 'customer_id',
                            amount_column => 'total', time_column => 'placed_at');
SELECT segment.track_products('shop.products');
SELECT segment.track_order_items('shop.order_items', order_column => 'order_id',
                                 product_column => 'product_id',
                                 quantity_column => 'quantity', price_column => 'price');
SELECT segment.track_events('shop.email_events', customer_column => 'customer_id',
                            kind_column => 'kind', time_column => 'at');

\echo '== 2. Rules are checked and printed in canonical form'
SELECT 'orders( status=''returned'' ,Last 30 days ) >= 1 and (city = ''Skopje'' and newsletter)'::segment.rule;

\echo '== 3. Static groups, tags and points, set by hand'
SELECT segment.create_group('employees', 'staff accounts');
SELECT count(*) AS added_to_employees FROM (
    SELECT segment.add_to_group('employees', id) FROM shop.customers WHERE email LIKE '%7@%' LIMIT 50) x;
SELECT count(*) AS tagged_vip FROM (
    SELECT segment.tag(id, 'vip') FROM shop.customers WHERE id % 97 = 0) x;
SELECT count(*) AS given_points FROM (
    SELECT segment.add_points(id, 150, 'launch bonus') FROM shop.customers WHERE id % 89 = 0) x;

\echo '== 4. RFM: recency, frequency and monetary scores for every customer who ordered in the last year'
SELECT segment.rfm_refresh(:'as_of') AS customers_scored;
SELECT label, count(*) AS customers, round(avg(monetary), 2) AS avg_monetary
  FROM segment.rfm_scores GROUP BY label ORDER BY customers DESC;

\echo '== 5. The 16 cases as segments'
SELECT name, segment.define(name, rule, description => description, as_of => :'as_of') AS members
  FROM (VALUES
    (1,  'lapsing',          'orders(last 180 days) < 2 AND orders() >= 1',             'fewer than 2 orders in 6 months'),
    (2,  'loyal',            'spent(last 365 days) >= 1000',                             'orders worth 1000+ in a year'),
    (3,  'shoe_lovers',      'bought(category = ''Shoes'', last 365 days) >= 3',         'loyal buyers of a category'),
    (3,  'acme_premium',     'spent_on(brand = ''Acme'', last 365 days) >= 500',         'premium customers of a brand'),
    (4,  'small_orders',     'max_order() < 50',                                         'every order under 50'),
    (5,  'clearance',        'bought(category = ''Clearance'')',                          'bought in clearance'),
    (6,  'engaged',          'events(''email_open'', ''email_click'', last 30 days) >= 1', 'opened or clicked in 30 days'),
    (7,  'semi_engaged',     'events(''email_open'', ''email_click'', between 90 and 60 days ago) >= 1 AND events(''email_open'', ''email_click'', last 60 days) = 0', 'engaged 60-90 days ago, not since'),
    (8,  'near_skopje',      'within_km(lat, lon, 41.9981, 21.4254, 30)',                'within 30 km of Skopje'),
    (8,  'warsaw_centre',    'postal_code LIKE ''00-%''',                                'postal code prefix'),
    (9,  'women_25_34',      'gender = ''f'' AND age(birth_date) BETWEEN 25 AND 34',     'gender and age band'),
    (10, 'b2b_newsletter',   'company IS NOT NULL AND newsletter',                       'B2B newsletter subscribers'),
    (11, 'monthly',          'order_months(last 6 months) >= 5',                         'orders in 5 of the last 6 months'),
    (12, 'returned_recently','orders(last 30 days, status = ''returned'') >= 1',         'a return in 30 days'),
    (13, 'blog_readers',     'events(''page_view'', last 30 days, url LIKE ''/blog/%'') >= 3', 'reads the blog'),
    (14, 'night_owls',       'orders(last 180 days, hour(placed_at) >= 22 OR hour(placed_at) < 4) >= 2', 'late-night buyers'),
    (14, 'phone_email',      'orders(channel IN (''phone'', ''email'')) >= 2',           'orders by phone or e-mail'),
    (15, 'champions',        'rfm_segment = ''Champions''',                              'RFM champions'),
    (15, 'at_risk_big',      'rfm_segment IN (''At Risk'', ''Can''''t Lose Them'') AND rfm.m >= 4', 'valuable customers slipping away'),
    (15, 'points_100',       'score >= 100',                                             'loyalty points'),
    (16, 'loyal_vips',       'in_segment(''loyal'') AND (tagged(''vip'') OR in_group(''employees''))', 'loyal and VIP or staff')
  ) AS cases(n, name, rule, description)
 ORDER BY n, name;

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

\echo '== 11. The clock: a week later, who left and who entered?  (tick revisits only customers near an edge)'
\timing on
SELECT * FROM segment.tick(timestamptz :'as_of' + interval '7 days') WHERE entered + exited > 0;
\timing off

\echo '== 12. RFM grid for BI tools'
SELECT r, f, customers, revenue FROM segment.rfm_grid ORDER BY r DESC, f DESC LIMIT 10;
