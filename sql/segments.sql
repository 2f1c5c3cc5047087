-- Segments over a small store: the 16 cases of the rule language, each
-- checked against a plain SQL query written independently for the same case.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS segment CASCADE;
CREATE EXTENSION segment;
RESET client_min_messages;
\set QUIET on
\i test/fixtures/small_store.sql
\set QUIET off
\set as_of '2026-11-01 00:00:00+00'

SELECT segment.track_customers('shop.customers', id_column => 'id');
SELECT segment.track_orders('shop.orders', customer_column => 'customer_id',
                            amount_column => 'total', time_column => 'placed_at');
SELECT segment.track_products('shop.products');
SELECT segment.track_order_items('shop.order_items', order_column => 'order_id',
                                 product_column => 'product_id',
                                 quantity_column => 'quantity', price_column => 'price');
SELECT segment.track_events('shop.email_events', customer_column => 'customer_id',
                            kind_column => 'kind', time_column => 'at');

-- Members of a segment as bigint keys, and the same from a plain query.
CREATE FUNCTION pg_temp.members(seg text) RETURNS bigint[]
LANGUAGE sql AS $$
    SELECT COALESCE(array_agg(customer_id::bigint ORDER BY customer_id::bigint), '{}')
      FROM segment.members WHERE segment = seg
$$;
CREATE FUNCTION pg_temp.ids(q text) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE r bigint[];
BEGIN
    EXECUTE format('SELECT COALESCE(array_agg(id ORDER BY id), ''{}'') FROM (%s) q', q) INTO r;
    RETURN r;
END $$;
CREATE TEMP TABLE expect (segment text PRIMARY KEY, plain bigint[]);
-- orders as of the pinned time: later ones do not exist yet
CREATE TEMP VIEW o AS SELECT * FROM shop.orders WHERE placed_at <= '2026-11-01 00:00:00+00';
CREATE TEMP VIEW e AS SELECT * FROM shop.email_events WHERE at <= '2026-11-01 00:00:00+00';

-- 1. fewer than 2 orders in the last 6 months (among customers who ever ordered)
SELECT segment.define('lapsing', 'orders(last 180 days) < 2 AND orders() >= 1', as_of => :'as_of',
                      description => 'fewer than 2 orders in 6 months');
INSERT INTO expect VALUES ('lapsing', pg_temp.ids($$SELECT c.id FROM shop.customers c
  WHERE (SELECT count(*) FROM o WHERE o.customer_id = c.id AND o.placed_at > '2026-11-01'::timestamptz - interval '180 days') < 2
    AND EXISTS (SELECT 1 FROM o WHERE o.customer_id = c.id)$$));
-- 2. loyal: orders worth 1000 or more in the last year
SELECT segment.define('loyal', 'spent(last 365 days) >= 1000', as_of => :'as_of');
INSERT INTO expect VALUES ('loyal', pg_temp.ids($$SELECT customer_id AS id FROM o
  WHERE placed_at > '2026-11-01'::timestamptz - interval '365 days' GROUP BY 1 HAVING sum(total) >= 1000$$));
-- 3. loyal buyers of a category; premium customers of a brand
SELECT segment.define('shoe_lovers', 'bought(category = ''Shoes'', last 365 days) >= 3', as_of => :'as_of');
INSERT INTO expect VALUES ('shoe_lovers', pg_temp.ids($$SELECT o.customer_id AS id FROM o
  JOIN shop.order_items i ON i.order_id = o.id JOIN shop.products p ON p.id = i.product_id
  WHERE p.category = 'Shoes' AND o.placed_at > '2026-11-01'::timestamptz - interval '365 days'
  GROUP BY 1 HAVING sum(i.quantity) >= 3$$));
SELECT segment.define('acme_premium', 'spent_on(brand = ''Acme'', last 365 days) >= 500', as_of => :'as_of');
INSERT INTO expect VALUES ('acme_premium', pg_temp.ids($$SELECT o.customer_id AS id FROM o
  JOIN shop.order_items i ON i.order_id = o.id JOIN shop.products p ON p.id = i.product_id
  WHERE p.brand = 'Acme' AND o.placed_at > '2026-11-01'::timestamptz - interval '365 days'
  GROUP BY 1 HAVING sum(i.quantity * i.price) >= 500$$));
-- 4. every order under 50
SELECT segment.define('small_orders_only', 'max_order() < 50', as_of => :'as_of');
INSERT INTO expect VALUES ('small_orders_only', pg_temp.ids($$SELECT customer_id AS id FROM o
  GROUP BY 1 HAVING max(total) < 50$$));
-- 5. bought in the clearance category
SELECT segment.define('clearance', 'bought(category = ''Clearance'')', as_of => :'as_of');
INSERT INTO expect VALUES ('clearance', pg_temp.ids($$SELECT DISTINCT o.customer_id AS id FROM o
  JOIN shop.order_items i ON i.order_id = o.id JOIN shop.products p ON p.id = i.product_id
  WHERE p.category = 'Clearance'$$));
-- 6. engaged: opened or clicked in the last 30 days
SELECT segment.define('engaged', 'events(''email_open'', ''email_click'', last 30 days) >= 1', as_of => :'as_of');
INSERT INTO expect VALUES ('engaged', pg_temp.ids($$SELECT DISTINCT customer_id AS id FROM e
  WHERE kind IN ('email_open', 'email_click') AND at > '2026-11-01'::timestamptz - interval '30 days'$$));
-- 7. semi-engaged: opened or clicked 90 to 60 days ago, not since
SELECT segment.define('semi_engaged',
    'events(''email_open'', ''email_click'', between 90 and 60 days ago) >= 1
     AND events(''email_open'', ''email_click'', last 60 days) = 0', as_of => :'as_of');
INSERT INTO expect VALUES ('semi_engaged', pg_temp.ids($$SELECT DISTINCT customer_id AS id FROM e
  WHERE kind IN ('email_open', 'email_click')
    AND at > '2026-11-01'::timestamptz - interval '90 days' AND at <= '2026-11-01'::timestamptz - interval '60 days'
  EXCEPT SELECT customer_id FROM e WHERE kind IN ('email_open', 'email_click')
    AND at > '2026-11-01'::timestamptz - interval '60 days'$$));
-- 8. near a city; postal code prefix; countries
SELECT segment.define('near_skopje', 'within_km(lat, lon, 41.9981, 21.4254, 30)', as_of => :'as_of');
INSERT INTO expect VALUES ('near_skopje', pg_temp.ids($$SELECT id FROM shop.customers
  WHERE 2 * 6371.0088 * asin(sqrt(sin(radians(lat - 41.9981) / 2) ^ 2
        + cos(radians(41.9981)) * cos(radians(lat)) * sin(radians(lon - 21.4254) / 2) ^ 2)) <= 30$$));
SELECT segment.define('warsaw_centre', 'postal_code LIKE ''00-%''', as_of => :'as_of');
INSERT INTO expect VALUES ('warsaw_centre', pg_temp.ids($$SELECT id FROM shop.customers WHERE postal_code LIKE '00-%'$$));
SELECT segment.define('ro_pl', 'country IN (''RO'', ''PL'')', as_of => :'as_of');
INSERT INTO expect VALUES ('ro_pl', pg_temp.ids($$SELECT id FROM shop.customers WHERE country IN ('RO', 'PL')$$));
-- 9. gender and age band; income band
SELECT segment.define('women_25_34', 'gender = ''f'' AND age(birth_date) BETWEEN 25 AND 34', as_of => :'as_of');
INSERT INTO expect VALUES ('women_25_34', pg_temp.ids($$SELECT id FROM shop.customers
  WHERE gender = 'f' AND extract(year FROM age(date '2026-11-01', birth_date)) BETWEEN 25 AND 34$$));
SELECT segment.define('high_income', 'income_band = ''high''', as_of => :'as_of');
INSERT INTO expect VALUES ('high_income', pg_temp.ids($$SELECT id FROM shop.customers WHERE income_band = 'high'$$));
-- 10. newsletter subscribers that are businesses; consumers
SELECT segment.define('b2b_newsletter', 'company IS NOT NULL AND newsletter', as_of => :'as_of');
INSERT INTO expect VALUES ('b2b_newsletter', pg_temp.ids($$SELECT id FROM shop.customers WHERE company IS NOT NULL AND newsletter$$));
SELECT segment.define('b2c', 'company IS NULL', as_of => :'as_of');
INSERT INTO expect VALUES ('b2c', pg_temp.ids($$SELECT id FROM shop.customers WHERE company IS NULL$$));
-- 11. orders in at least 5 of the last 6 months
SELECT segment.define('monthly', 'order_months(last 6 months) >= 5', as_of => :'as_of');
INSERT INTO expect VALUES ('monthly', pg_temp.ids($$SELECT customer_id AS id FROM o
  WHERE placed_at > '2026-11-01'::timestamptz - interval '6 months'
  GROUP BY 1 HAVING count(DISTINCT date_trunc('month', placed_at)) >= 5$$));
-- counted by a month bitmask while the window spans at most 64 months
-- (5 years: 61), by count(DISTINCT) beyond and without a window
SELECT segment.define('monthly_5y', 'order_months(last 5 years) >= 3', as_of => :'as_of');
INSERT INTO expect VALUES ('monthly_5y', pg_temp.ids($$SELECT customer_id AS id FROM o
  WHERE placed_at > '2026-11-01'::timestamptz - interval '5 years'
  GROUP BY 1 HAVING count(DISTINCT date_trunc('month', placed_at)) >= 3$$));
SELECT segment.define('monthly_ever', 'order_months() >= 3', as_of => :'as_of');
INSERT INTO expect VALUES ('monthly_ever', pg_temp.ids($$SELECT customer_id AS id FROM o
  GROUP BY 1 HAVING count(DISTINCT date_trunc('month', placed_at)) >= 3$$));
SELECT segment.define('monthly_dates', 'order_months(between 2026-05-01 and 2026-10-31) >= 3', as_of => :'as_of');
INSERT INTO expect VALUES ('monthly_dates', pg_temp.ids($$SELECT customer_id AS id FROM o
  WHERE placed_at >= '2026-05-01' AND placed_at < '2026-11-01'
  GROUP BY 1 HAVING count(DISTINCT date_trunc('month', placed_at)) >= 3$$));
SELECT segment._evaluation_sql(ARRAY(SELECT id FROM segment.segments WHERE name = 'monthly_5y'), false) LIKE '%bit_or%' AS bitmask,
       segment._evaluation_sql(ARRAY(SELECT id FROM segment.segments WHERE name = 'monthly_dates'), false) LIKE '%bit_or%' AS dates_bitmask,
       segment._evaluation_sql(ARRAY(SELECT id FROM segment.segments WHERE name = 'monthly_ever'), false) LIKE '%count(DISTINCT%' AS count_distinct;
-- 12. an order returned in the last 30 days
SELECT segment.define('returned_recently', 'orders(last 30 days, status = ''returned'') >= 1', as_of => :'as_of');
INSERT INTO expect VALUES ('returned_recently', pg_temp.ids($$SELECT DISTINCT customer_id AS id FROM o
  WHERE status = 'returned' AND placed_at > '2026-11-01'::timestamptz - interval '30 days'$$));
-- 13. blog readers; long sessions
SELECT segment.define('blog_readers', 'events(''page_view'', last 30 days, url LIKE ''/blog/%'') >= 3', as_of => :'as_of');
INSERT INTO expect VALUES ('blog_readers', pg_temp.ids($$SELECT customer_id AS id FROM e
  WHERE kind = 'page_view' AND url LIKE '/blog/%' AND at > '2026-11-01'::timestamptz - interval '30 days'
  GROUP BY 1 HAVING count(*) >= 3$$));
SELECT segment.define('long_sessions', 'sum_events(''session'', duration_s, last 30 days) > 600', as_of => :'as_of');
INSERT INTO expect VALUES ('long_sessions', pg_temp.ids($$SELECT customer_id AS id FROM e
  WHERE kind = 'session' AND at > '2026-11-01'::timestamptz - interval '30 days'
  GROUP BY 1 HAVING sum(duration_s) > 600$$));
-- 14. late-night buyers; phone and e-mail orderers
SELECT segment.define('night_owls', 'orders(last 180 days, hour(placed_at) >= 22 OR hour(placed_at) < 4) >= 2', as_of => :'as_of');
INSERT INTO expect VALUES ('night_owls', pg_temp.ids($$SELECT customer_id AS id FROM o
  WHERE (extract(hour FROM placed_at) >= 22 OR extract(hour FROM placed_at) < 4)
    AND placed_at > '2026-11-01'::timestamptz - interval '180 days'
  GROUP BY 1 HAVING count(*) >= 2$$));
SELECT segment.define('phone_email', 'orders(channel IN (''phone'', ''email'')) >= 2', as_of => :'as_of');
INSERT INTO expect VALUES ('phone_email', pg_temp.ids($$SELECT customer_id AS id FROM o
  WHERE channel IN ('phone', 'email') GROUP BY 1 HAVING count(*) >= 2$$));
-- 15. score thresholds (points as of the pinned time)
INSERT INTO segment.points (customer_id, points, reason, at) VALUES
  ('1', 150, 'welcome', '2026-10-01'), ('4', 60, 'review', '2026-10-01'), ('4', 60, 'review', '2026-10-02');
INSERT INTO segment.points (customer_id, points, reason, at, expires_at) VALUES
  ('5', 200, 'promo', '2026-09-01', '2026-10-01');
SELECT segment.define('high_score', 'score >= 100', as_of => :'as_of');
INSERT INTO expect VALUES ('high_score', '{1,4}');
-- and RFM scores: their parts, the score itself, the standard labels
SELECT segment.rfm_refresh(:'as_of');
SELECT segment.define('rfm_recent_frequent', 'rfm.r >= 4 AND rfm.f >= 3', as_of => :'as_of');
INSERT INTO expect VALUES ('rfm_recent_frequent', pg_temp.ids($$SELECT customer_id::bigint AS id FROM segment.rfm_scores
  WHERE segment.rfm_r(score) >= 4 AND segment.rfm_f(score) >= 3$$));
SELECT segment.define('rfm_named', 'rfm_segment IN (''Champions'', ''At Risk'') OR rfm = ''5-5-5''', as_of => :'as_of');
INSERT INTO expect VALUES ('rfm_named', pg_temp.ids($$SELECT customer_id::bigint AS id FROM segment.rfm_scores
  WHERE label IN ('Champions', 'At Risk') OR score::int = 555$$));
-- 16. another segment, a tag, a static group
SELECT segment.create_group('employees', 'staff accounts');
SELECT segment.add_to_group('employees', 4);
SELECT segment.tag(1, 'vip');
SELECT segment.define('loyal_vips', 'in_segment(''loyal'') AND (tagged(''vip'') OR in_group(''employees''))', as_of => :'as_of');
INSERT INTO expect VALUES ('loyal_vips', pg_temp.ids($$SELECT customer_id::bigint AS id FROM segment.members
  WHERE segment = 'loyal' AND customer_id IN (SELECT customer_id FROM segment.tags WHERE tag = 'vip'
        UNION SELECT customer_id FROM segment.group_members WHERE group_name = 'employees')$$));

-- Every case: its members, and whether they equal the plain query's.
SELECT x.segment, pg_temp.members(x.segment) AS members, pg_temp.members(x.segment) = x.plain AS agrees
  FROM expect x ORDER BY x.segment;
-- The cases are not trivial: each has members and non-members.
SELECT x.segment FROM expect x
 WHERE cardinality(x.plain) = 0 OR cardinality(x.plain) = (SELECT count(*) FROM shop.customers);

-- A full refresh at the same time changes nothing; its report says so.
SELECT * FROM segment.refresh(as_of => :'as_of') WHERE entered + exited > 0;
SELECT count(*) AS segments, sum(members) AS memberships FROM segment.refresh(as_of => :'as_of');

-- The rule is stored in canonical form, with what it reads.
SELECT segment, rule, depends_on, sources, uses_clock FROM segment.status
 WHERE segment IN ('lapsing', 'loyal_vips', 'ro_pl') ORDER BY segment;

-- Reading membership.
SELECT segment.is_member(1, 'loyal'), segment.is_member(2, 'loyal'), segment.is_member('1'::text, 'loyal');
SELECT segment.segments_of(4);
SELECT segment.segments_of(10);
SELECT segment.is_member(1, 'no_such_segment');
