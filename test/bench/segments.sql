-- The store as the demo sets it up (tracked tables, a group, tags), and the
-- 16 cases of the rule language as segments, evaluated at the data's "now".
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET timezone = 'UTC';
DROP EXTENSION IF EXISTS segment CASCADE;
CREATE EXTENSION segment;

SELECT segment.track_customers('shop.customers', id_column => 'id');
SELECT segment.track_orders('shop.orders', customer_column => 'customer_id',
                            amount_column => 'total', time_column => 'placed_at');
SELECT segment.track_products('shop.products');
SELECT segment.track_order_items('shop.order_items', order_column => 'order_id',
                                 product_column => 'product_id',
                                 quantity_column => 'quantity', price_column => 'price');
SELECT segment.track_events('shop.email_events', customer_column => 'customer_id',
                            kind_column => 'kind', time_column => 'at');
SELECT segment.create_group('employees');
SELECT count(segment.add_to_group('employees', id)) FROM shop.customers WHERE id % 211 = 0;
SELECT count(segment.tag(id, 'vip')) FROM shop.customers WHERE id % 97 = 0;

SELECT name, segment.define(name, rule, as_of => '2026-11-01 00:00:00+00') AS members
  FROM (VALUES
    (1,  'lapsing',          'orders(last 180 days) < 2 AND orders() >= 1'),
    (2,  'loyal',            'spent(last 365 days) >= 1000'),
    (3,  'shoe_lovers',      'bought(category = ''Shoes'', last 365 days) >= 3'),
    (3,  'acme_premium',     'spent_on(brand = ''Acme'', last 365 days) >= 500'),
    (4,  'small_orders',     'max_order() < 50'),
    (5,  'clearance',        'bought(category = ''Clearance'')'),
    (6,  'engaged',          'events(''email_open'', ''email_click'', last 30 days) >= 1'),
    (7,  'semi_engaged',     'events(''email_open'', ''email_click'', between 90 and 60 days ago) >= 1 AND events(''email_open'', ''email_click'', last 60 days) = 0'),
    (8,  'near_skopje',      'within_km(lat, lon, 41.9981, 21.4254, 30)'),
    (8,  'warsaw_centre',    'postal_code LIKE ''00-%'''),
    (9,  'women_25_34',      'gender = ''f'' AND age(birth_date) BETWEEN 25 AND 34'),
    (10, 'b2b_newsletter',   'company IS NOT NULL AND newsletter'),
    (11, 'monthly',          'order_months(last 6 months) >= 5'),
    (12, 'returned_recently','orders(last 30 days, status = ''returned'') >= 1'),
    (13, 'blog_readers',     'events(''page_view'', last 30 days, url LIKE ''/blog/%'') >= 3'),
    (14, 'night_owls',       'orders(last 180 days, hour(placed_at) >= 22 OR hour(placed_at) < 4) >= 2'),
    (14, 'phone_email',      'orders(channel IN (''phone'', ''email'')) >= 2'),
    (16, 'loyal_vips',       'in_segment(''loyal'') AND (tagged(''vip'') OR in_group(''employees''))')
  ) AS cases(n, name, rule)
 ORDER BY n, name;
