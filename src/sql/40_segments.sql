
-- ---------------------------------------------------------------------------
-- Segments: define, refresh, drop; the one engine that evaluates rules and
-- applies only the difference to stored membership.
-- ---------------------------------------------------------------------------

CREATE FUNCTION segment._rule_deps(name text, rule text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'segment_rule_deps'
LANGUAGE C STABLE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION segment._rule_deps(text, text) IS
    'Binds a rule to the tracked tables and returns what it reads; raises on unknown names and type errors.';

CREATE FUNCTION segment._evaluation_sql(segment_ids integer[], for_customers boolean)
RETURNS text
AS 'MODULE_PATHNAME', 'segment_evaluation_sql'
LANGUAGE C STABLE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION segment._evaluation_sql(integer[], boolean) IS
    'Compiles segments into one query returning (cid, sid) for every true membership.';

-- Great-circle distance, for within_km().
CREATE FUNCTION segment.distance_km(lat1 double precision, lon1 double precision,
                                    lat2 double precision, lon2 double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN 2 * 6371.0088 * pg_catalog.asin(pg_catalog.sqrt(
         pg_catalog.power(pg_catalog.sin(pg_catalog.radians(lat2 - lat1) / 2), 2)
         + pg_catalog.cos(pg_catalog.radians(lat1)) * pg_catalog.cos(pg_catalog.radians(lat2))
           * pg_catalog.power(pg_catalog.sin(pg_catalog.radians(lon2 - lon1) / 2), 2)));
COMMENT ON FUNCTION segment.distance_km(double precision, double precision, double precision, double precision) IS
    'Distance in kilometres between two points given in degrees (haversine).';

-- Local hours and months of order and event times, and whole years of age
-- (src/local_time.c): date_part()'s results, with the session zone's
-- offset looked up once per stretch between two of its changes.
CREATE FUNCTION segment._local_hour(t timestamptz)
RETURNS integer
AS 'MODULE_PATHNAME', 'segment_local_hour_tz'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment._local_hour(timestamptz) IS
    'date_part(''hour'', t) in the session''s time zone, as an integer; NULL for infinity.';

CREATE FUNCTION segment._local_hour(t timestamp)
RETURNS integer
AS 'MODULE_PATHNAME', 'segment_local_hour_ts'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment._local_hour(timestamp) IS
    'date_part(''hour'', t) as an integer; NULL for infinity.';

CREATE FUNCTION segment._local_hour(t date)
RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN segment._local_hour(t::timestamp);
COMMENT ON FUNCTION segment._local_hour(date) IS
    'date_part(''hour'', t): 0, or NULL for infinity.';

CREATE FUNCTION segment._local_month(t timestamptz)
RETURNS integer
AS 'MODULE_PATHNAME', 'segment_local_month_tz'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment._local_month(timestamptz) IS
    'date_part(''year'', t) * 12 + date_part(''month'', t) in the session''s time zone; NULL for infinity.';

CREATE FUNCTION segment._local_month(t timestamp)
RETURNS integer
AS 'MODULE_PATHNAME', 'segment_local_month_ts'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment._local_month(timestamp) IS
    'date_part(''year'', t) * 12 + date_part(''month'', t); NULL for infinity.';

CREATE FUNCTION segment._local_month(t date)
RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN segment._local_month(t::timestamp);
COMMENT ON FUNCTION segment._local_month(date) IS
    'date_part(''year'', t) * 12 + date_part(''month'', t); NULL for infinity.';

CREATE FUNCTION segment._age_years(at date, born date)
RETURNS integer
AS 'MODULE_PATHNAME', 'segment_age_years'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment._age_years(date, date) IS
    'date_part(''year'', age(at, born)): whole years from born to at, negative when born is later.';

-- Amounts of a numeric(p, s) column, p <= 18, are summed as int8 counts of
-- 10^-s (src/exact_units.c): exact, and far lighter per customer.
CREATE FUNCTION segment._exact_units(amount numeric, scale integer)
RETURNS bigint
AS 'MODULE_PATHNAME', 'segment_exact_units'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment._exact_units(numeric, integer) IS
    'amount * 10^scale as bigint; an error for NaN, infinity or out of range.';

CREATE FUNCTION segment._exact_units(amount numeric, scale integer, times bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'segment_exact_units'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment._exact_units(numeric, integer, bigint) IS
    'amount * 10^scale * times as bigint (a price times a quantity); an error for NaN, infinity or out of range.';

-- Their sums: a bigint kept in each group, and an error naming the sum
-- past bigint's range (sum(bigint) keeps a wider state allocated apart).
CREATE FUNCTION segment._units_add(bigint, bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'segment_units_add'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment._units_add(bigint, bigint) IS
    'a + b; an error past bigint''s range.  The step of segment._sum_units().';

CREATE AGGREGATE segment._sum_units(bigint) (
    SFUNC = segment._units_add,
    STYPE = bigint,
    COMBINEFUNC = segment._units_add,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE segment._sum_units(bigint) IS
    'The sum of exact units, as bigint; NULL for no rows.';

CREATE FUNCTION segment._amount_sum_sql(relation regclass, column_name text, expr text, filter text)
RETURNS text
AS 'MODULE_PATHNAME', 'segment_amount_sum_sql'
LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION segment._amount_sum_sql(regclass, text, text, text) IS
    'SQL summing an amount column (expr, then a FILTER clause or nothing), in exact units where its type allows.';

-- Which segment reads which: in_segment() names, and the segments that keep
-- a tag that a rule tests with tagged().
CREATE VIEW segment.dependencies AS
SELECT s.name AS segment, d AS depends_on
  FROM segment.segments s, pg_catalog.unnest(s.depends_on) d
UNION
SELECT s.name, t.name
  FROM segment.segments s JOIN segment.segments t ON t.tag = ANY (s.tags_tested);
COMMENT ON VIEW segment.dependencies IS 'Edges of the segment dependency graph.';

-- The given segments and every segment that reads them, directly or not;
-- with maintained_only, only those that maintenance (triggers, the clock)
-- keeps current: segments in manual and scheduled mode are left alone, even
-- when they read a segment it changes.
CREATE FUNCTION segment._with_dependants(ids integer[], maintained_only boolean DEFAULT false)
RETURNS integer[]
AS 'MODULE_PATHNAME', 'segment_with_dependants'
LANGUAGE C STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION segment._with_dependants(integer[], boolean) IS
    'The given segments and all segments that depend on them, in id order; optionally only those maintained automatically.';

/*
 * The engine.  Evaluates the given segments, each after those it reads, for
 * all customers (customers IS NULL) or for the given customer keys, and
 * applies the difference: entries, exits, one change row for each, and a
 * notification.  Full refresh, define, the triggers and the clock all come
 * here; they differ only in which segments and customers they pass.
 */
CREATE FUNCTION segment._apply(ids integer[], as_of timestamptz, cause text,
                               customers text[] DEFAULT NULL)
RETURNS TABLE (segment text, members bigint, entered bigint, exited bigint)
AS 'MODULE_PATHNAME', 'segment_apply'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off;  -- inlining and optimizing, set off by cost estimates, cost more than they save
COMMENT ON FUNCTION segment._apply(integer[], timestamptz, text, text[]) IS
    'The refresh engine: evaluates segments for all or some customers and applies entries and exits.';

CREATE FUNCTION segment.refresh(segment_name text DEFAULT NULL, as_of timestamptz DEFAULT now())
RETURNS TABLE (segment text, members bigint, entered bigint, exited bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids integer[];
BEGIN
    IF refresh.segment_name IS NULL THEN
        ids := ARRAY(SELECT id FROM segment.segments ORDER BY id);
    ELSE
        ids := ARRAY(SELECT id FROM segment.segments s WHERE s.name = refresh.segment_name);
        IF cardinality(ids) = 0 THEN
            RAISE EXCEPTION 'segment "%" does not exist', refresh.segment_name
                USING ERRCODE = 'undefined_object',
                      HINT = 'The defined segments are listed in segment.segments.';
        END IF;
        ids := segment._with_dependants(ids);
    END IF;
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    -- one refresh of a segment at a time; readers of membership never wait
    PERFORM 1 FROM segment.segments s WHERE s.id = ANY (ids) ORDER BY s.id FOR UPDATE;
    IF refresh.segment_name IS NULL THEN
        -- every segment locked: the clock's store can be built, if it must be
        PERFORM segment._clock_store_sync(as_of, true);
    END IF;
    RETURN QUERY SELECT * FROM segment._apply(ids, as_of, 'manual') a ORDER BY a.segment;
END
$$;
COMMENT ON FUNCTION segment.refresh(text, timestamptz) IS
    'Recomputes one segment (and the segments that read it) or all of them, as of a time; returns members, entries and exits.';

CREATE FUNCTION segment.define(name text, rule segment.rule, description text DEFAULT NULL,
                               tag text DEFAULT NULL, mode text DEFAULT 'incremental',
                               as_of timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    deps jsonb;
    seg_id integer;
    cycle text;
    result bigint;
BEGIN
    IF name IS NULL OR rule IS NULL THEN
        RAISE EXCEPTION 'a segment needs a name and a rule' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF mode IS NULL OR mode NOT IN ('incremental', 'scheduled', 'manual') THEN
        RAISE EXCEPTION 'unknown maintenance mode "%" for segment "%"', mode, name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Modes are incremental (follow the data and the clock), scheduled (recomputed at each tick) and manual (refresh() only).';
    END IF;
    deps := segment._rule_deps(name, rule::text);

    INSERT INTO segment.segments AS s (name, rule, description, tag, mode, depends_on,
                                       tags_tested, groups_used, sources, uses_clock, uses_points)
    VALUES (define.name, define.rule, define.description, define.tag, define.mode,
            ARRAY(SELECT jsonb_array_elements_text(deps->'segments')),
            ARRAY(SELECT jsonb_array_elements_text(deps->'tags')),
            ARRAY(SELECT jsonb_array_elements_text(deps->'groups')),
            ARRAY(SELECT jsonb_array_elements_text(deps->'sources')),
            (deps->>'uses_clock')::boolean, (deps->>'uses_points')::boolean)
    ON CONFLICT ON CONSTRAINT segments_name_key DO UPDATE
       SET rule = excluded.rule, description = excluded.description, tag = excluded.tag,
           mode = excluded.mode, depends_on = excluded.depends_on,
           tags_tested = excluded.tags_tested, groups_used = excluded.groups_used,
           sources = excluded.sources, uses_clock = excluded.uses_clock,
           uses_points = excluded.uses_points, defined_at = now()
    RETURNING s.id INTO seg_id;

    -- a new edge may close a cycle, through in_segment() or through a tag
    WITH RECURSIVE walk(name, path) AS (
        SELECT d.depends_on, ARRAY[define.name, d.depends_on]
          FROM segment.dependencies d WHERE d.segment = define.name
        UNION ALL
        SELECT d.depends_on, w.path || d.depends_on
          FROM walk w JOIN segment.dependencies d ON d.segment = w.name
         WHERE w.name <> define.name
    )
    SELECT array_to_string(path, ' -> ') INTO cycle FROM walk WHERE walk.name = define.name LIMIT 1;
    IF cycle IS NOT NULL THEN
        RAISE EXCEPTION 'segment "%" would depend on itself', name
            USING ERRCODE = 'invalid_recursion',
                  DETAIL = format('The segments form a cycle: %s.', cycle),
                  HINT = 'A segment may read other segments and tags, but not through a loop.';
    END IF;

    PERFORM 1 FROM segment.segments s
     WHERE s.id = ANY (segment._with_dependants(ARRAY[seg_id])) ORDER BY s.id FOR UPDATE;
    PERFORM segment._apply(segment._with_dependants(ARRAY[seg_id]), as_of, 'definition');
    SELECT count(*) INTO result FROM segment.membership m WHERE m.segment_id = seg_id;
    RETURN result;
END
$$;
COMMENT ON FUNCTION segment.define(text, segment.rule, text, text, text, timestamptz) IS
    'Defines or redefines a segment and fills its membership at once; returns the number of members.';

-- Rules arrive as text from apps and variables: the same, parsed here.
CREATE FUNCTION segment.define(name text, rule text, description text DEFAULT NULL,
                               tag text DEFAULT NULL, mode text DEFAULT 'incremental',
                               as_of timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
RETURN segment.define(name, rule::segment.rule, description, tag, mode, as_of);
COMMENT ON FUNCTION segment.define(text, text, text, text, text, timestamptz) IS
    'define() for a rule given as text.';

CREATE FUNCTION segment.drop_segment(name text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    seg_id integer;
    readers text;
BEGIN
    SELECT s.id INTO seg_id FROM segment.segments s WHERE s.name = drop_segment.name FOR UPDATE;
    IF seg_id IS NULL THEN
        RAISE EXCEPTION 'segment "%" does not exist', name USING ERRCODE = 'undefined_object';
    END IF;
    SELECT string_agg(format('%L', d.segment), ', ' ORDER BY d.segment) INTO readers
      FROM segment.dependencies d WHERE d.depends_on = drop_segment.name;
    IF readers IS NOT NULL THEN
        RAISE EXCEPTION 'segment "%" is read by other segments', name
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = format('Segments that read it: %s.', readers),
                  HINT = 'Drop or redefine those first.';
    END IF;
    WITH gone AS (DELETE FROM segment.membership m WHERE m.segment_id = seg_id RETURNING m.customer_id)
    INSERT INTO segment.changes (segment, customer_id, kind, at, cause)
    SELECT drop_segment.name, g.customer_id, 'exit', now(), 'definition'
      FROM gone g ORDER BY g.customer_id;
    DELETE FROM segment.segments WHERE id = seg_id;
END
$$;
COMMENT ON FUNCTION segment.drop_segment(text) IS
    'Drops a segment; its members are logged as exits.';

-- ---------------------------------------------------------------------------
-- Reading membership
-- ---------------------------------------------------------------------------

CREATE VIEW segment.members AS
SELECT s.name AS segment, m.customer_id, m.since
  FROM segment.membership m JOIN segment.segments s ON s.id = m.segment_id;
COMMENT ON VIEW segment.members IS 'Current members: (segment, customer_id, since).';

CREATE VIEW segment.history AS
SELECT segment, customer_id, at AS entered_at, exited_at
  FROM (SELECT c.segment, c.customer_id, c.kind, c.at,
               lead(c.at) OVER (PARTITION BY c.segment, c.customer_id ORDER BY c.id) AS exited_at
          FROM segment.changes c) h
 WHERE kind = 'enter';
COMMENT ON VIEW segment.history IS
    'Every stay in a segment: (segment, customer_id, entered_at, exited_at), exited_at null while it lasts.';

CREATE FUNCTION segment.is_member(customer anyelement, segment text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'segment_is_member'
LANGUAGE C STABLE STRICT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION segment.is_member(anyelement, text) IS
    'Whether a customer (by key, of any key type) is a member of a segment now.';

CREATE FUNCTION segment.segments_of(customer anyelement)
RETURNS text[]
AS 'MODULE_PATHNAME', 'segment_segments_of'
LANGUAGE C STABLE STRICT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION segment.segments_of(anyelement) IS
    'The segments a customer belongs to now, by name.';

-- The change feed, read with a cursor of the reader's own.
CREATE FUNCTION segment.changes_since(after_id bigint, max_rows integer DEFAULT 1000)
RETURNS SETOF segment.changes
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT * FROM segment.changes c WHERE c.id > after_id ORDER BY c.id LIMIT max_rows;
END;
COMMENT ON FUNCTION segment.changes_since(bigint, integer) IS
    'Entries and exits after a given change id, oldest first: a feed for e-mail and push senders.';

-- Stored membership against a from-scratch evaluation: the rows that differ.
CREATE FUNCTION segment.verify(as_of timestamptz DEFAULT now())
RETURNS TABLE (segment text, customer_id text, stored boolean, computed boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids integer[] := ARRAY(SELECT s.id FROM segment.segments s ORDER BY s.id);
BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format($q$
        WITH computed AS (%s),
        stored AS (SELECT m.customer_id AS cid, m.segment_id AS sid FROM segment.membership m),
        diff AS ((SELECT cid, sid, false AS stored FROM computed EXCEPT SELECT cid, sid, false FROM stored)
                 UNION ALL
                 (SELECT cid, sid, true FROM stored EXCEPT SELECT cid, sid, true FROM computed))
        SELECT s.name, d.cid, d.stored, NOT d.stored
          FROM diff d JOIN segment.segments s ON s.id = d.sid
         ORDER BY s.name, d.cid
        $q$, segment._evaluation_sql(ids, false))
    USING as_of;
END
$$;
COMMENT ON FUNCTION segment.verify(timestamptz) IS
    'Compares stored membership with a full evaluation as of a time; returns the rows that differ (none when all is well).';
