-- A randomised model test: random rules from the grammar, a random stream of
-- inserts, updates and deletes on every tracked table, hand-set tags, group
-- members and points, and clock advances.  After every step the stored
-- membership equals a full recompute, and the change log replays to it.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS segment CASCADE;
CREATE EXTENSION segment;
RESET client_min_messages;
SET client_min_messages = warning;
SELECT setseed(0.4242);

CREATE SCHEMA model;
CREATE TABLE model.customers (id integer PRIMARY KEY, city text, vip boolean, born date);
CREATE TABLE model.products (id integer PRIMARY KEY, category text);
CREATE TABLE model.orders (id serial PRIMARY KEY, customer_id integer NOT NULL,
                           at timestamptz NOT NULL, total numeric(8,2) NOT NULL, status text NOT NULL);
CREATE TABLE model.items (id serial PRIMARY KEY, order_id integer NOT NULL, product_id integer NOT NULL,
                          qty integer NOT NULL);
CREATE TABLE model.events (id serial PRIMARY KEY, customer_id integer NOT NULL, kind text NOT NULL,
                           at timestamptz NOT NULL);
CREATE INDEX ON model.orders (customer_id);
CREATE INDEX ON model.items (order_id);
CREATE INDEX ON model.events (customer_id);
INSERT INTO model.products SELECT g, (ARRAY['a', 'b', 'c'])[1 + g % 3] FROM generate_series(1, 6) g;
INSERT INTO model.customers
SELECT g, (ARRAY['x', 'y', 'z'])[1 + (random() * 2)::int], random() < 0.3,
       date '1990-01-01' + (random() * 9000)::int
  FROM generate_series(1, 30) g;

SELECT segment.track_customers('model.customers');
SELECT segment.track_orders('model.orders', time_column => 'at');
SELECT segment.track_products('model.products');
SELECT segment.track_order_items('model.items', product_column => 'product_id', quantity_column => 'qty');
SELECT segment.track_events('model.events', time_column => 'at');
SELECT segment.create_group('g');

-- Random rules: atoms of every kind, combined with AND, OR and NOT.
CREATE FUNCTION pg_temp.atom() RETURNS text LANGUAGE sql AS $$
    SELECT (ARRAY[
        format('orders(last %s days) >= %s', 1 + (random() * 60)::int, (random() * 3)::int),
        format('orders(between %s and %s days ago) = 0', 20 + (random() * 40)::int, (random() * 19)::int),
        format('spent(last %s days, status = ''paid'') > %s', 1 + (random() * 90)::int, (random() * 200)::int),
        format('days_since_last_order > %s', (random() * 40)::int),
        format('days_since_last_order BETWEEN %s AND %s', (random() * 10)::int, 10 + (random() * 30)::int),
        format('bought(category = ''%s'', last %s days) >= %s', (ARRAY['a','b','c'])[1 + (random() * 2)::int],
               1 + (random() * 60)::int, 1 + (random() * 3)::int),
        format('events(''open'', last %s days) >= 1', 1 + (random() * 30)::int),
        format('days_since_last_event(''click'') < %s', (random() * 30)::int),
        format('order_months(last %s months) >= 2', 1 + (random() * 3)::int),
        format('city = ''%s''', (ARRAY['x','y','z'])[1 + (random() * 2)::int]),
        'vip',
        format('age(born) >= %s', 20 + (random() * 15)::int),
        'tagged(''t'')',
        'in_group(''g'')',
        format('score >= %s', (random() * 20)::int),
        format('max_order() < %s', (random() * 150)::int)
    ])[1 + (random() * 15)::int]
$$;
CREATE FUNCTION pg_temp.rule(depth int) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN depth = 0 OR random() < 0.4 THEN pg_temp.atom()
                WHEN random() < 0.2 THEN 'NOT (' || pg_temp.rule(depth - 1) || ')'
                ELSE '(' || pg_temp.rule(depth - 1) || (CASE WHEN random() < 0.5 THEN ' AND ' ELSE ' OR ' END)
                     || pg_temp.rule(depth - 1) || ')' END
$$;

-- Stored membership against a recompute, and the change log against both.
CREATE FUNCTION pg_temp.check(step int, what text, clock timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    bad bigint;
BEGIN
    SELECT count(*) INTO bad FROM segment.verify(clock);
    IF bad > 0 THEN
        RAISE EXCEPTION 'step %: % left % membership rows unlike a recompute at %', step, what, bad, clock;
    END IF;
    SELECT count(*) INTO bad FROM (
        (SELECT segment, customer_id FROM segment.members
         EXCEPT SELECT segment, customer_id FROM segment.history WHERE exited_at IS NULL)
        UNION ALL
        (SELECT segment, customer_id FROM segment.history WHERE exited_at IS NULL
         EXCEPT SELECT segment, customer_id FROM segment.members)) d;
    IF bad > 0 THEN
        RAISE EXCEPTION 'step %: % left the history and membership apart (% rows)', step, what, bad;
    END IF;
END $$;

DO $$
DECLARE
    clock timestamptz := now();
    n_segments int := 8;
    op int;
    what text;
    c int;
    steps int := 600;
    ops int[] := '{}';
BEGIN
    FOR i IN 1..n_segments LOOP
        PERFORM segment.define('m' || i, pg_temp.rule(2), as_of => clock);
    END LOOP;
    PERFORM segment.define('m_dep', 'in_segment(''m1'') OR NOT in_segment(''m2'')', as_of => clock);

    FOR step IN 1..steps LOOP
        op := 1 + (random() * 13)::int;
        c := 1 + (random() * 29)::int;
        ops := ops || op;
        CASE op
        WHEN 1, 2, 3 THEN
            what := 'insert order';
            WITH o AS (INSERT INTO model.orders (customer_id, at, total, status)
                       VALUES (c, clock - (random() * 80 - 5) * interval '1 day', (random() * 120)::int,
                               CASE WHEN random() < 0.8 THEN 'paid' ELSE 'returned' END)
                       RETURNING id)
            INSERT INTO model.items (order_id, product_id, qty)
            SELECT o.id, 1 + (random() * 5)::int, 1 + (random() * 2)::int FROM o;
        WHEN 4 THEN
            what := 'update orders';
            UPDATE model.orders SET total = total + 30, at = at - interval '3 days'
             WHERE customer_id IN (c, c + 1);
        WHEN 5 THEN
            what := 'delete order';
            DELETE FROM model.items WHERE order_id = (SELECT min(id) FROM model.orders WHERE customer_id = c);
            DELETE FROM model.orders WHERE id = (SELECT min(id) FROM model.orders WHERE customer_id = c);
        WHEN 6 THEN
            what := 'update item';
            UPDATE model.items SET product_id = 1 + (random() * 5)::int
             WHERE id = (SELECT max(id) FROM model.items);
        WHEN 7 THEN
            what := 'insert events';
            INSERT INTO model.events (customer_id, kind, at)
            SELECT c + g, CASE WHEN random() < 0.5 THEN 'open' ELSE 'click' END,
                   clock - (random() * 40 - 3) * interval '1 day'
              FROM generate_series(0, (random() * 2)::int) g WHERE c + g <= 30;
        WHEN 8 THEN
            what := 'delete events';
            DELETE FROM model.events WHERE customer_id = c;
        WHEN 9 THEN
            what := 'update customer';
            UPDATE model.customers SET city = (ARRAY['x','y','z'])[1 + (random() * 2)::int], vip = NOT vip
             WHERE id = c;
        WHEN 10 THEN
            what := 'tag, group, points';
            IF random() < 0.5 THEN
                PERFORM segment.tag(c, 't');
                PERFORM segment.add_to_group('g', c + 1);
            ELSE
                PERFORM segment.untag(c, 't');
                PERFORM segment.remove_from_group('g', c + 1);
            END IF;
            PERFORM segment.add_points(c, (random() * 15)::int, 'model',
                                       (1 + random() * 20) * interval '1 day');
        WHEN 11 THEN
            what := 'update product';
            UPDATE model.products SET category = (ARRAY['a','b','c'])[1 + (random() * 2)::int]
             WHERE id = 1 + (random() * 5)::int;
        WHEN 12 THEN
            what := 'redefine';
            PERFORM segment.define('m' || (1 + (random() * (n_segments - 1))::int), pg_temp.rule(2), as_of => clock);
        ELSE
            what := 'tick';
            clock := clock + (random() * 4) * interval '1 day';
            PERFORM segment.tick(clock);
        END CASE;
        PERFORM pg_temp.check(step, what, clock);
    END LOOP;
    RAISE WARNING 'model: % steps over % segments; % data, % tag/group/points, % redefine, % tick steps; % changes logged',
        steps, n_segments + 1,
        (SELECT count(*) FROM unnest(ops) o WHERE o <= 9 OR o = 11),
        (SELECT count(*) FROM unnest(ops) o WHERE o = 10),
        (SELECT count(*) FROM unnest(ops) o WHERE o = 12),
        (SELECT count(*) FROM unnest(ops) o WHERE o = 13),
        (SELECT count(*) FROM segment.changes) > 0;
END
$$;

-- The run did change memberships, through every cause.
SELECT cause, count(*) > 0 AS happened FROM segment.changes GROUP BY cause ORDER BY cause;

DROP SCHEMA model CASCADE;
DROP EXTENSION segment CASCADE;
CREATE EXTENSION segment;
