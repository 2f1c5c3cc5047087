-- The segment.rule type: every case of the rule language in canonical form,
-- canonical fixed points, JSON and binary round trips, comparison and index
-- support.  Errors are in rule_errors.sql, random input in rule_fuzz.sql.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS segment;
RESET client_min_messages;
-- The operators live in schema segment, with the type: without it on the
-- search path they are written OPERATOR(segment.=).
SELECT 'x != 1'::segment.rule OPERATOR(segment.=) 'X <> 1'::segment.rule AS same;
SET search_path = segment, public;

-- The cases of the design (rule-language.md), as written there.
CREATE TEMP TABLE cases (id serial PRIMARY KEY, written text NOT NULL);
INSERT INTO cases (written) VALUES
    ('orders(last 180 days) < 2'),
    ('orders(last 365 days) < 2'),
    ('spent(last 365 days) >= 1000'),
    ('avg_order(last 365 days) < 100'),
    ('bought(category = ''Shoes'', last 365 days) >= 3'),
    ('bought(brand = ''Acme'')'),
    ('bought(product_id = 1234, last 30 days)'),
    ('spent_on(brand = ''Acme'', last 365 days) >= 500'),
    ('max_order() < 50'),
    ('min_order(last 365 days) >= 20'),
    ('bought(category = ''clearance'')'),
    ('events(''email_open'', last 30 days) >= 1'),
    ('events(''email_open'', ''email_click'', last 30 days) >= 1'),
    ('(events(''email_open'', ''email_click'', between 90 and 60 days ago) >= 1) AND events(''email_open'', ''email_click'', last 60 days) = 0'),
    ('city = ''Skopje'''),
    ('within_km(lat, lon, 41.9981, 21.4254, 30)'),
    ('region = ''Mazowieckie'' or country IN (''RO'', ''PL'')'),
    ('postal_code LIKE ''00-%'''),
    ('gender = ''f'''),
    ('age(birth_date) BETWEEN 25 AND 34'),
    ('income_band = ''high'' and profession ilike ''%engineer%'''),
    ('newsletter'),
    ('company IS NOT NULL'),
    ('company is null'),
    ('order_months(last 6 months) >= 5'),
    ('orders(last 30 days, status = ''returned'') >= 1'),
    ('orders(last 90 days, status = ''returned'') >= 1'),
    ('events(''page_view'', last 30 days, url LIKE ''/blog/%'') >= 3'),
    ('bought(category = ''Shoes'') >= bought(category = ''Bags'')'),
    ('sum_events(''session'', duration_s, last 30 days) > 600'),
    ('orders(last 90 days, hour(placed_at) >= 22) >= 2'),
    ('orders(last 90 days, channel IN (''phone'', ''email'')) >= 2'),
    ('rfm.r >= 4'),
    ('rfm = ''555'''),
    ('rfm_segment = ''At Risk'''),
    ('score >= 100'),
    ('in_segment(''champions'') AND NOT tagged(''vip'')'),
    ('tagged(''vip'')'),
    ('in_group(''employees'')'),
    ('first_order < 2026-01-01'),
    ('last_order >= 2026-01-01'),
    ('days_since_last_order > 90'),
    ('days_since_last_event(''email_open'') > 30'),
    ('days_since_last_event > 30'),
    ('orders(between 2026-01-01 and 2026-03-31) >= 1'),
    ('spent(last 1 year) > 0 and spent(last 2 weeks) = 0'),
    ('orders( status=''x'' ,Last 90 days ) >= 2 and (city = ''A'' and newsletter)');

SELECT id, written::segment.rule AS canonical FROM cases ORDER BY id;

-- The canonical text reads back as itself, and as the same value.
SELECT count(*) AS cases,
       count(*) FILTER (WHERE written::segment.rule::text::segment.rule = written::segment.rule
                          AND written::segment.rule::text::segment.rule::text = written::segment.rule::text)
           AS fixed_points
  FROM cases;

-- Two spellings of one rule are one value.
SELECT a::segment.rule = b::segment.rule AS same, a::segment.rule AS canonical
  FROM (VALUES
    ('x != 1', 'X <> 1'),
    ('NOT x = 1', 'not (x = 1)'),
    ('a AND (b AND c)', '(a and b) and c'),
    ('a OR (b OR c)', '((a)) or (b or c)'),
    ('a OR b AND c', 'a or (b and c)'),
    ('days_since_last_order() > 90', 'DAYS_SINCE_LAST_ORDER > 90'),
    ('first_order() < 2026-01-01', 'first_order < 2026-01-01'),
    ('bought(category = ''Shoes'', last 365 days) >= 3', 'bought(LAST 365 DAYS, category=''Shoes'')>=3'),
    ('events(''a'', x = 1, last 1 day)', 'events(''a'', last 1 days, x = 1)'),
    ('sum_events(''s'', last 30 days, d)', 'sum_events(''s'', d, last 30 days)'),
    ('orders(between 90 and 60 day ago)', 'orders(BETWEEN 90 AND 60 DAYS AGO)'),
    ('x = 1.50', 'x = 01.5'),
    ('x = -0', 'x = 0.000'),
    ('"city" = ''A''', 'CITY = ''A'''),
    (E'a\n\tAND  b', 'a AND b')
  ) AS v(a, b);

-- Two different rules are two values.
SELECT 'x = 1'::segment.rule = 'x = 1.01'::segment.rule AS same,
       '"City" = 1'::segment.rule = 'city = 1'::segment.rule AS same_name,
       '(a OR b) AND c'::segment.rule = 'a OR b AND c'::segment.rule AS same_grouping;

-- Literals and names in canonical form.
SELECT r::segment.rule AS canonical
  FROM (VALUES
    ('x = 007'), ('x = -007.250'), ('x = 2.0'), ('x = -0.0'), ('x = 0.5'),
    ('x = ''it''''s'''), ('x = '''''), ('x = true OR y = FALSE'),
    ('"Day" = 1'), ('"day" = 1'), ('"a b" = 1'), ('"x""y" = 1'), ('"rfm"."R" >= 4'),
    ('"orders" = 1'), ('x = 2024-02-29'),
    ('orders(LAST 1 DAYS)'), ('orders(last 2 day)'), ('orders(last 1 week)'), ('orders(last 3 weeks)'),
    ('orders(last 1 month)'), ('orders(last 12 months)'), ('orders(last 1 years)'),
    ('orders(between 1 and 0 day ago)'), ('orders(between 2026-01-01 and 2026-01-01)'),
    ('NOT NOT a'), ('NOT (a AND b)'), ('NOT (a OR b)'), ('NOT a IS NULL'), ('(NOT a) AND b'),
    ('x NOT IN (1, 2)'), ('x NOT BETWEEN 1 AND 2'), ('x NOT LIKE ''a%'''), ('x NOT ILIKE ''a%'''),
    ('orders(a OR b, c AND (d OR e))'), ('orders(NOT (a AND b))'), ('orders()')
  ) AS v(r);

-- The JSON tree, in full for a few rules.
SELECT jsonb_pretty(segment.rule_to_json(
    'orders(last 90 days, status = ''returned'') >= 1 AND NOT (city IN (''A'', ''B'') OR rfm.r < 2)'));
SELECT segment.rule_to_json(r::segment.rule)
  FROM (VALUES
    ('postal_code NOT LIKE ''00-%'''), ('name ILIKE ''a%'''), ('company IS NOT NULL'),
    ('age(birth_date) NOT BETWEEN 25 AND 34'), ('first_order < 2026-01-01'), ('newsletter = TRUE'),
    ('events(''e'', between 90 and 60 days ago) = 0'), ('orders(between 2026-01-01 and 2026-03-31)'),
    ('days_since_last_order > 90')
  ) AS v(r);

-- rule -> JSON -> rule is the identity, and so is JSON -> rule -> JSON.
SELECT count(*) AS cases,
       count(*) FILTER (WHERE segment.rule_from_json(segment.rule_to_json(written::segment.rule))
                              = written::segment.rule) AS rule_round_trips,
       count(*) FILTER (WHERE segment.rule_to_json(segment.rule_from_json(segment.rule_to_json(written::segment.rule)))
                              = segment.rule_to_json(written::segment.rule)) AS json_round_trips
  FROM cases;

-- JSON input: optional keys default to false, AND in AND is flattened, a
-- bare-capable verb without arguments is its name.
SELECT segment.rule_from_json(j)
  FROM (VALUES
    ('{"in": {"name": "country"}, "values": [{"string": "RO"}, {"string": "PL"}]}'::jsonb),
    ('{"like": {"name": "x"}, "pattern": "a%"}'),
    ('{"is_null": {"name": "company"}}'),
    ('{"between": {"name": "x"}, "low": {"number": "01.50"}, "high": {"number": "2.0"}}'),
    ('{"and": [{"name": "a"}, {"and": [{"name": "b"}, {"or": [{"name": "c"}, {"name": "d"}]}]}]}'),
    ('{"verb": "first_order", "args": []}'),
    ('{"verb": "max_order"}'),
    ('{"verb": "bought", "args": [{"op": "=", "left": {"name": "category"}, "right": {"string": "Shoes"}}, {"window": "last", "n": 365, "unit": "day"}]}'),
    ('{"name": "City"}'),
    ('{"name": "and"}'),
    ('{"not": {"not": {"name": "a"}}}')
  ) AS v(j);

-- Binary output: a version byte, then the canonical text.
SELECT segment.rule_send('x != 1');

-- Binary input, through COPY: every case out and back in.
CREATE TEMP TABLE copied (r segment.rule);
\copy (SELECT written::segment.rule FROM cases ORDER BY id) TO 'results/rule_copy.bin' WITH (FORMAT binary)
\copy copied FROM 'results/rule_copy.bin' WITH (FORMAT binary)
SELECT count(*) AS copied,
       count(*) FILTER (WHERE r IN (SELECT written::segment.rule FROM cases)) AS equal
  FROM copied;

-- Binary input is checked as text input is.  A bytea column has the same
-- binary layout, so COPY can feed rule_recv any bytes.
CREATE TEMP TABLE raw (b bytea);
CREATE TEMP TABLE received (r segment.rule);
INSERT INTO raw VALUES ('\x017820213d2031');       -- version 1, 'x != 1'
\copy raw TO 'results/rule_raw.bin' WITH (FORMAT binary)
\copy received FROM 'results/rule_raw.bin' WITH (FORMAT binary)
SELECT r FROM received;
TRUNCATE raw;
INSERT INTO raw VALUES ('\x027820213d2031');       -- version 2
\copy raw TO 'results/rule_raw.bin' WITH (FORMAT binary)
\copy received FROM 'results/rule_raw.bin' WITH (FORMAT binary)
TRUNCATE raw;
INSERT INTO raw VALUES ('\x');                     -- nothing at all
\copy raw TO 'results/rule_raw.bin' WITH (FORMAT binary)
\copy received FROM 'results/rule_raw.bin' WITH (FORMAT binary)
TRUNCATE raw;
INSERT INTO raw VALUES ('\x0178003d2031');         -- a zero byte
\copy raw TO 'results/rule_raw.bin' WITH (FORMAT binary)
\copy received FROM 'results/rule_raw.bin' WITH (FORMAT binary)
TRUNCATE raw;
INSERT INTO raw VALUES ('\x0178203d');             -- 'x =': not a rule
\copy raw TO 'results/rule_raw.bin' WITH (FORMAT binary)
\copy received FROM 'results/rule_raw.bin' WITH (FORMAT binary)
TRUNCATE raw;
INSERT INTO raw VALUES ('\x01');                   -- an empty rule
\copy raw TO 'results/rule_raw.bin' WITH (FORMAT binary)
\copy received FROM 'results/rule_raw.bin' WITH (FORMAT binary)
SELECT count(*) AS received FROM received;

-- Comparison is bytewise on the canonical text; btree and hash support.
SELECT r FROM (SELECT written::segment.rule AS r FROM cases WHERE id <= 8) s ORDER BY r;
SELECT 'a'::segment.rule < 'b'::segment.rule AS lt, 'a'::segment.rule < 'a AND b'::segment.rule AS prefix_first,
       'b'::segment.rule >= 'a'::segment.rule AS ge, 'a'::segment.rule <> 'b'::segment.rule AS ne,
       segment.rule_cmp('b', 'a') AS cmp,
       segment.rule_hash('x <> 1') = segment.rule_hash('x != 1') AS same_hash,
       segment.rule_hash_extended('x <> 1', 7) = segment.rule_hash_extended('X != 1', 7) AS same_hash_extended;
SELECT r, count(*) FROM (VALUES ('x != 1'::segment.rule), ('X <> 1'), ('x<>1'), ('y = 1')) v(r)
 GROUP BY r ORDER BY r;
SET enable_hashagg = on;
SELECT count(DISTINCT r) FROM (VALUES ('x != 1'::segment.rule), ('X <> 1'), ('y = 1')) v(r);

CREATE TEMP TABLE stored (r segment.rule PRIMARY KEY);
INSERT INTO stored SELECT DISTINCT written::segment.rule FROM cases;
INSERT INTO stored VALUES ('ORDERS(LAST 180 DAYS) < 2');     -- the same rule: a duplicate
CREATE INDEX stored_hash ON stored USING hash (r);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM stored WHERE r = 'score >= 100';
SELECT * FROM stored WHERE r = 'SCORE>=100';
DROP INDEX stored_hash;
EXPLAIN (COSTS OFF) SELECT * FROM stored WHERE r >= 'score' ORDER BY r;
SELECT * FROM stored WHERE r >= 'score' ORDER BY r;
RESET enable_seqscan;
RESET enable_bitmapscan;
RESET enable_hashagg;
