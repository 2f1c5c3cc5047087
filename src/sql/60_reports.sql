
-- ---------------------------------------------------------------------------
-- Views and reports for people and BI tools.
-- ---------------------------------------------------------------------------

CREATE VIEW segment.status AS
SELECT s.name AS segment, s.mode, s.rule::text AS rule, s.description, s.tag,
       (SELECT count(*) FROM segment.membership m WHERE m.segment_id = s.id) AS members,
       s.defined_at, s.refreshed_at, s.as_of, s.refresh_ms, s.last_error, s.last_error_at,
       s.uses_clock, s.depends_on, s.sources
  FROM segment.segments s;
COMMENT ON VIEW segment.status IS
    'Per segment: its rule, mode, members now, when and how fast it was last evaluated (refreshed_at, as_of: a refresh or a tick), and the clock''s last error.';

-- Members per segment per day, from the change log.
CREATE VIEW segment.sizes_over_time AS
SELECT d.segment, d.day,
       sum(d.delta) OVER (PARTITION BY d.segment ORDER BY d.day) AS members,
       d.entered, d.exited
  FROM (SELECT c.segment, (c.at)::date AS day,
               sum(CASE c.kind WHEN 'enter' THEN 1 ELSE -1 END) AS delta,
               count(*) FILTER (WHERE c.kind = 'enter') AS entered,
               count(*) FILTER (WHERE c.kind = 'exit') AS exited
          FROM segment.changes c
         GROUP BY c.segment, (c.at)::date) d;
COMMENT ON VIEW segment.sizes_over_time IS
    'Segment sizes over time: members at the end of each day with a change, and that day''s entries and exits.';

CREATE VIEW segment.overlaps AS
SELECT a.name AS segment_a, b.name AS segment_b, count(*) AS both_members,
       round(count(*)::numeric / NULLIF((SELECT count(*) FROM segment.membership x WHERE x.segment_id = a.id)
                                        + (SELECT count(*) FROM segment.membership x WHERE x.segment_id = b.id)
                                        - count(*), 0), 4) AS jaccard
  FROM segment.membership ma
  JOIN segment.membership mb ON mb.customer_id = ma.customer_id AND mb.segment_id > ma.segment_id
  JOIN segment.segments a ON a.id = ma.segment_id
  JOIN segment.segments b ON b.id = mb.segment_id
 GROUP BY a.id, a.name, b.id, b.name;
COMMENT ON VIEW segment.overlaps IS 'Pairs of segments that share members: how many, and the Jaccard index.';

CREATE FUNCTION segment.report(as_of timestamptz DEFAULT now(), revenue_window interval DEFAULT '365 days')
RETURNS TABLE (segment text, members bigint, share_of_customers numeric, revenue numeric,
               orders bigint, avg_order_value numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c segment.sources;
    o segment.sources;
BEGIN
    SELECT * INTO c FROM segment.sources WHERE kind = 'customers';
    SELECT * INTO o FROM segment.sources WHERE kind = 'orders';
    IF c IS NULL OR o IS NULL THEN
        RAISE EXCEPTION 'the report needs tracked customers and orders'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Call segment.track_customers() and segment.track_orders() first.';
    END IF;
    RETURN QUERY EXECUTE format($q$
        WITH total AS (SELECT count(*) AS n FROM %1$s),
        spend AS (SELECT (o.%2$I)::text AS cid, count(*) AS orders, sum(o.%3$I) AS revenue
                    FROM %4$s o WHERE o.%5$I > $1 - $2 AND o.%5$I <= $1
                   GROUP BY 1)
        SELECT s.name, count(m.customer_id),
               round(100.0 * count(m.customer_id) / NULLIF((SELECT n FROM total), 0), 2),
               COALESCE(sum(sp.revenue), 0)::numeric, COALESCE(sum(sp.orders), 0)::bigint,
               round(sum(sp.revenue) / NULLIF(sum(sp.orders), 0), 2)::numeric
          FROM segment.segments s
          LEFT JOIN segment.membership m ON m.segment_id = s.id
          LEFT JOIN spend sp ON sp.cid = m.customer_id
         GROUP BY s.name ORDER BY s.name
        $q$, c.relation, o.customer_column, o.amount_column, o.relation, o.time_column)
    USING as_of, revenue_window;
END
$$;
COMMENT ON FUNCTION segment.report(timestamptz, interval) IS
    'Per segment: members, share of all customers, and their revenue, orders and average order value in a window.';

CREATE VIEW segment.revenue AS SELECT * FROM segment.report();
COMMENT ON VIEW segment.revenue IS 'segment.report() for the last 365 days, for BI tools.';
