-- What a store would write instead of segment: one hand-written query per
-- case, kept as a materialized view and refreshed on a schedule.  The same
-- 16 cases (18 segments) as segments.sql, at the same time.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET timezone = 'UTC';
DROP SCHEMA IF EXISTS mv CASCADE;
CREATE SCHEMA mv;

CREATE MATERIALIZED VIEW mv.lapsing AS
SELECT customer_id AS id FROM shop.orders WHERE placed_at <= '2026-11-01'
 GROUP BY customer_id
HAVING count(*) FILTER (WHERE placed_at > timestamptz '2026-11-01' - interval '180 days') < 2;
CREATE MATERIALIZED VIEW mv.loyal AS
SELECT customer_id AS id FROM shop.orders
 WHERE placed_at > timestamptz '2026-11-01' - interval '365 days' AND placed_at <= '2026-11-01'
 GROUP BY customer_id HAVING sum(total) >= 1000;
CREATE MATERIALIZED VIEW mv.shoe_lovers AS
SELECT o.customer_id AS id FROM shop.orders o
  JOIN shop.order_items i ON i.order_id = o.id JOIN shop.products p ON p.id = i.product_id
 WHERE p.category = 'Shoes' AND o.placed_at > timestamptz '2026-11-01' - interval '365 days'
   AND o.placed_at <= '2026-11-01'
 GROUP BY o.customer_id HAVING sum(i.quantity) >= 3;
CREATE MATERIALIZED VIEW mv.acme_premium AS
SELECT o.customer_id AS id FROM shop.orders o
  JOIN shop.order_items i ON i.order_id = o.id JOIN shop.products p ON p.id = i.product_id
 WHERE p.brand = 'Acme' AND o.placed_at > timestamptz '2026-11-01' - interval '365 days'
   AND o.placed_at <= '2026-11-01'
 GROUP BY o.customer_id HAVING sum(i.quantity * i.price) >= 500;
CREATE MATERIALIZED VIEW mv.small_orders AS
SELECT customer_id AS id FROM shop.orders WHERE placed_at <= '2026-11-01'
 GROUP BY customer_id HAVING max(total) < 50;
CREATE MATERIALIZED VIEW mv.clearance AS
SELECT DISTINCT o.customer_id AS id FROM shop.orders o
  JOIN shop.order_items i ON i.order_id = o.id JOIN shop.products p ON p.id = i.product_id
 WHERE p.category = 'Clearance' AND o.placed_at <= '2026-11-01';
CREATE MATERIALIZED VIEW mv.engaged AS
SELECT DISTINCT customer_id AS id FROM shop.email_events
 WHERE kind IN ('email_open', 'email_click')
   AND at > timestamptz '2026-11-01' - interval '30 days' AND at <= '2026-11-01';
CREATE MATERIALIZED VIEW mv.semi_engaged AS
SELECT customer_id AS id FROM shop.email_events
 WHERE kind IN ('email_open', 'email_click') AND at <= '2026-11-01'
 GROUP BY customer_id
HAVING count(*) FILTER (WHERE at > timestamptz '2026-11-01' - interval '90 days'
                          AND at <= timestamptz '2026-11-01' - interval '60 days') >= 1
   AND count(*) FILTER (WHERE at > timestamptz '2026-11-01' - interval '60 days') = 0;
CREATE MATERIALIZED VIEW mv.near_skopje AS
SELECT id FROM shop.customers
 WHERE 2 * 6371.0088 * asin(sqrt(sin(radians(lat - 41.9981) / 2) ^ 2
       + cos(radians(41.9981)) * cos(radians(lat)) * sin(radians(lon - 21.4254) / 2) ^ 2)) <= 30;
CREATE MATERIALIZED VIEW mv.warsaw_centre AS
SELECT id FROM shop.customers WHERE postal_code LIKE '00-%';
CREATE MATERIALIZED VIEW mv.women_25_34 AS
SELECT id FROM shop.customers
 WHERE gender = 'f' AND extract(year FROM age(date '2026-11-01', birth_date)) BETWEEN 25 AND 34;
CREATE MATERIALIZED VIEW mv.b2b_newsletter AS
SELECT id FROM shop.customers WHERE company IS NOT NULL AND newsletter;
CREATE MATERIALIZED VIEW mv.monthly AS
SELECT customer_id AS id FROM shop.orders
 WHERE placed_at > timestamptz '2026-11-01' - interval '6 months' AND placed_at <= '2026-11-01'
 GROUP BY customer_id HAVING count(DISTINCT date_trunc('month', placed_at)) >= 5;
CREATE MATERIALIZED VIEW mv.returned_recently AS
SELECT DISTINCT customer_id AS id FROM shop.orders
 WHERE status = 'returned' AND placed_at > timestamptz '2026-11-01' - interval '30 days'
   AND placed_at <= '2026-11-01';
CREATE MATERIALIZED VIEW mv.blog_readers AS
SELECT customer_id AS id FROM shop.email_events
 WHERE kind = 'page_view' AND url LIKE '/blog/%'
   AND at > timestamptz '2026-11-01' - interval '30 days' AND at <= '2026-11-01'
 GROUP BY customer_id HAVING count(*) >= 3;
CREATE MATERIALIZED VIEW mv.night_owls AS
SELECT customer_id AS id FROM shop.orders
 WHERE (extract(hour FROM placed_at) >= 22 OR extract(hour FROM placed_at) < 4)
   AND placed_at > timestamptz '2026-11-01' - interval '180 days' AND placed_at <= '2026-11-01'
 GROUP BY customer_id HAVING count(*) >= 2;
CREATE MATERIALIZED VIEW mv.phone_email AS
SELECT customer_id AS id FROM shop.orders
 WHERE channel IN ('phone', 'email') AND placed_at <= '2026-11-01'
 GROUP BY customer_id HAVING count(*) >= 2;
CREATE MATERIALIZED VIEW mv.loyal_vips AS
SELECT l.id FROM mv.loyal l
 WHERE l.id::text IN (SELECT customer_id FROM segment.tags WHERE tag = 'vip'
                      UNION SELECT customer_id FROM segment.group_members WHERE group_name = 'employees');

-- The refresh a scheduler would run: every view, dependencies last.
CREATE FUNCTION mv.refresh_all() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v text;
BEGIN
    FOR v IN SELECT matviewname FROM pg_matviews WHERE schemaname = 'mv'
              ORDER BY matviewname = 'loyal_vips', matviewname LOOP
        EXECUTE format('REFRESH MATERIALIZED VIEW mv.%I', v);
    END LOOP;
END $$;

-- The same queries as CREATE TABLE AS, into a scratch schema.
CREATE FUNCTION mv.create_tables_as() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v record;
BEGIN
    DROP SCHEMA IF EXISTS mv_tables CASCADE;
    CREATE SCHEMA mv_tables;
    FOR v IN SELECT matviewname, definition FROM pg_matviews WHERE schemaname = 'mv'
              ORDER BY matviewname = 'loyal_vips', matviewname LOOP
        EXECUTE format('CREATE TABLE mv_tables.%I AS %s', v.matviewname,
                       replace(v.definition, 'mv.loyal ', 'mv_tables.loyal '));
    END LOOP;
END $$;

-- The views agree with segment's members, case by case.
CREATE VIEW mv.disagreements AS
SELECT v.matviewname AS segment,
       (SELECT count(*) FROM segment.members m WHERE m.segment = v.matviewname) AS members,
       x.n AS differing
  FROM pg_matviews v,
       LATERAL (SELECT (xpath('/row/n/text()',
                query_to_xml(format($q$SELECT count(*) AS n FROM (
                    (SELECT id::text FROM mv.%1$I EXCEPT SELECT customer_id FROM segment.members WHERE segment = %1$L)
                    UNION ALL
                    (SELECT customer_id FROM segment.members WHERE segment = %1$L EXCEPT SELECT id::text FROM mv.%1$I)) d$q$,
                    v.matviewname), false, false, '')))[1]::text::bigint AS n) x
 WHERE v.schemaname = 'mv';
