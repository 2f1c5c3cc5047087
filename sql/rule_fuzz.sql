-- Random rules thrown at the input function: generated from the grammar,
-- mutated (truncated, tokens swapped, characters replaced), random text,
-- nesting past the limit and rules past the length limit.  Every input must
-- be accepted or rejected with a syntax error (class 42) or a limit error
-- (class 54); anything else, a crash included, fails the test.  Accepted
-- rules must read back as themselves, as text and as JSON.  Only counts are
-- printed, so the output is stable for a given seed.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS segment;
RESET client_min_messages;

CREATE FUNCTION pg_temp.pick(items text[]) RETURNS text
LANGUAGE sql AS $$ SELECT items[1 + floor(random() * array_length(items, 1))::int] $$;

-- A random rule from the grammar, nested at most depth levels.
CREATE FUNCTION pg_temp.gen(depth int) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r float8 := random();
    operand text;
BEGIN
    IF depth > 0 AND r < 0.12 THEN
        RETURN pg_temp.gen(depth - 1) || pg_temp.pick('{" AND "," and "," OR "," or "}') || pg_temp.gen(depth - 1);
    ELSIF depth > 0 AND r < 0.18 THEN
        RETURN pg_temp.pick('{"NOT ","not "}') || pg_temp.gen(depth - 1);
    ELSIF depth > 0 AND r < 0.26 THEN
        RETURN '(' || pg_temp.gen(depth - 1) || ')';
    END IF;
    operand := pg_temp.pick(ARRAY[
        'city', 'Score', '"Mixed Case"', 'rfm.r', 'rfm_segment', 'newsletter', 'days_since_last_order',
        'first_order', '42', '-0.50', '007', '''Skopje''', '''it''''s''', '2026-02-28', 'TRUE', 'false',
        'orders()', 'orders(last 30 days)', 'spent(LAST 1 YEAR, status = ''x'')',
        'bought(category = ''Shoes'', last 2 weeks)', 'events(''a'', ''b'', between 90 and 60 days ago)',
        'sum_events(''s'', duration_s, last 7 days, url like ''/b%'')', 'age(birth_date)',
        'within_km(lat, lon, 41.9981, 21.4254, 30)', 'tagged(''vip'')', 'in_segment(''x'')',
        'days_since_last_event(''e'')', 'orders(between 2026-01-01 and 2026-03-31, hour(placed_at) >= 22)']);
    r := random();
    IF r < 0.45 THEN
        RETURN operand || pg_temp.pick('{" = "," != ","<>"," < ","<="," > "," >= "}')
               || pg_temp.pick('{1,-2.50,''x'',2026-01-01,TRUE,city,orders()}');
    ELSIF r < 0.55 THEN
        RETURN operand || pg_temp.pick('{" IN (1, 2)"," not in (''a'')"," BETWEEN 1 AND 2"," NOT BETWEEN a AND b"}');
    ELSIF r < 0.65 THEN
        RETURN operand || pg_temp.pick('{" LIKE ''a%''"," not ilike ''%b''"," IS NULL"," is not null"}');
    END IF;
    RETURN operand;
END
$$;

-- A mutation of a rule: cut, tokens swapped or dropped, characters replaced.
CREATE FUNCTION pg_temp.mutate(s text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r float8 := random();
    words text[];
    i int;
    j int;
    w text;
    alphabet text := E'abcXYZ_019.-,()''"=<>!;@ \t\nÄßé';
BEGIN
    IF r < 0.3 THEN
        RETURN substr(s, 1, floor(random() * (length(s) + 1))::int);
    ELSIF r < 0.6 THEN
        words := regexp_split_to_array(s, ' ');
        i := 1 + floor(random() * array_length(words, 1))::int;
        j := 1 + floor(random() * array_length(words, 1))::int;
        w := words[i];
        words[i] := words[j];
        IF random() < 0.5 THEN
            words[j] := w;
        ELSE
            words[j] := '';
        END IF;
        RETURN array_to_string(words, ' ');
    END IF;
    FOR k IN 1 .. 1 + floor(random() * 3)::int LOOP
        i := 1 + floor(random() * greatest(length(s), 1))::int;
        s := overlay(s PLACING substr(alphabet, 1 + floor(random() * length(alphabet))::int, 1)
                     FROM i FOR floor(random() * 2)::int);
    END LOOP;
    RETURN s;
END
$$;

-- Random text over the language's characters.
CREATE FUNCTION pg_temp.noise(n int) RETURNS text
LANGUAGE sql AS $$
    SELECT string_agg(substr(E'abcxyz_0129.-,()''"=<>! \tAND OR NOT IN LAST DAYS BETWEEN é',
                             1 + floor(random() * 60)::int, 1 + floor(random() * 4)::int), '')
      FROM generate_series(1, $1)
$$;

CREATE TABLE pg_temp.fuzz_counts (kind text, sqlstate text, n int);

DO $$
DECLARE
    input text;
    r segment.rule;
    accepted int := 0;
    rejected jsonb := '{}';
    kind text;
    state text;
BEGIN
    PERFORM setseed(0.42);
    FOR i IN 1 .. 100000 LOOP
        kind := CASE
            WHEN i % 1000 = 0 THEN 'huge'
            WHEN i % 500 = 1 THEN 'deep'
            WHEN i % 10 < 3 THEN 'generated'
            WHEN i % 10 < 8 THEN 'mutated'
            ELSE 'noise' END;
        input := CASE kind
            WHEN 'generated' THEN pg_temp.gen(4)
            WHEN 'mutated' THEN pg_temp.mutate(pg_temp.gen(3))
            WHEN 'noise' THEN pg_temp.noise(1 + floor(random() * 12)::int)
            WHEN 'deep' THEN CASE floor(random() * 3)::int
                WHEN 0 THEN repeat('(', 50 + i % 30) || 'x' || repeat(')', 50 + i % 30)
                WHEN 1 THEN repeat('NOT ', 50 + i % 30) || 'x'
                ELSE repeat('orders(', 50 + i % 30) || repeat(')', 50 + i % 30) END
            ELSE repeat(pg_temp.gen(1) || ' AND ', 2000 + floor(random() * 3000)::int) || 'x' END;
        state := NULL;
        BEGIN
            r := input::segment.rule;
        EXCEPTION
            WHEN syntax_error_or_access_rule_violation OR program_limit_exceeded THEN
                state := SQLSTATE;
        END;
        IF state IS NULL THEN
            accepted := accepted + 1;
            -- outside the handler: a failure here is not a syntax error to count
            IF r::text::segment.rule OPERATOR(segment.<>) r THEN
                RAISE EXCEPTION 'text round trip changed % into %', r, r::text::segment.rule;
            END IF;
            IF segment.rule_from_json(segment.rule_to_json(r)) OPERATOR(segment.<>) r
               OR segment.rule_to_json(segment.rule_from_json(segment.rule_to_json(r))) <> segment.rule_to_json(r) THEN
                RAISE EXCEPTION 'JSON round trip changed %', r;
            END IF;
            INSERT INTO pg_temp.fuzz_counts VALUES (kind, 'accepted', 1);
        ELSE
            INSERT INTO pg_temp.fuzz_counts VALUES (kind, state, 1);
        END IF;
    END LOOP;
END
$$;

SELECT kind, sqlstate, sum(n) AS inputs FROM pg_temp.fuzz_counts GROUP BY kind, sqlstate ORDER BY kind, sqlstate;
SELECT sum(n) AS inputs FROM pg_temp.fuzz_counts;
