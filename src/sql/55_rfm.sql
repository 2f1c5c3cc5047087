
-- ---------------------------------------------------------------------------
-- RFM: recency, frequency and monetary scores per customer (doc/rfm.md).
-- The rfm type holds three scores from 1 to 9; the functions below compute
-- them from the tracked orders, keep the cut points they used so that a
-- customer can be rescored alone as orders arrive, and label them.
-- ---------------------------------------------------------------------------

CREATE TYPE segment.rfm;

CREATE FUNCTION segment.rfm_in(cstring)
RETURNS segment.rfm
AS 'MODULE_PATHNAME', 'rfm_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rfm_in(cstring) IS
    'Reads an rfm score written ''543'' or ''5-4-3''; each score from 1 to 9.';

CREATE FUNCTION segment.rfm_out(segment.rfm)
RETURNS cstring
AS 'MODULE_PATHNAME', 'rfm_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rfm_out(segment.rfm) IS
    'Writes an rfm score as three digits, such as ''543''.';

CREATE FUNCTION segment.rfm_recv(internal)
RETURNS segment.rfm
AS 'MODULE_PATHNAME', 'rfm_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rfm_recv(internal) IS
    'Reads the binary form of an rfm score: three bytes R, F, M, each from 1 to 9.';

CREATE FUNCTION segment.rfm_send(segment.rfm)
RETURNS bytea
AS 'MODULE_PATHNAME', 'rfm_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rfm_send(segment.rfm) IS
    'Writes the binary form of an rfm score: three bytes R, F, M.';

-- Stored as the int2 100 * R + 10 * F + M: two bytes, passed by value.
CREATE TYPE segment.rfm (
    INPUT = segment.rfm_in,
    OUTPUT = segment.rfm_out,
    RECEIVE = segment.rfm_recv,
    SEND = segment.rfm_send,
    INTERNALLENGTH = 2,
    PASSEDBYVALUE,
    ALIGNMENT = int2,
    STORAGE = plain
);
COMMENT ON TYPE segment.rfm IS
    'An RFM score: recency, frequency and monetary scores, each from 1 to 9, written ''543''.';

CREATE FUNCTION segment.rfm(r integer, f integer, m integer)
RETURNS segment.rfm
AS 'MODULE_PATHNAME', 'rfm_make'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rfm(integer, integer, integer) IS
    'Makes an rfm score from its three scores, each from 1 to 9.';

CREATE FUNCTION segment.rfm(integer)
RETURNS segment.rfm
AS 'MODULE_PATHNAME', 'rfm_from_int'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rfm(integer) IS
    'The rfm score written as an integer: 543 is R 5, F 4, M 3.';

CREATE FUNCTION segment.rfm_to_int(segment.rfm)
RETURNS integer
AS 'MODULE_PATHNAME', 'rfm_to_int'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rfm_to_int(segment.rfm) IS
    'An rfm score as the integer with the same digits: ''543'' is 543.';

CREATE CAST (segment.rfm AS integer) WITH FUNCTION segment.rfm_to_int(segment.rfm);
CREATE CAST (integer AS segment.rfm) WITH FUNCTION segment.rfm(integer);

CREATE FUNCTION segment.rfm_r(segment.rfm)
RETURNS integer
AS 'MODULE_PATHNAME', 'rfm_r'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rfm_r(segment.rfm) IS 'The recency score R of an rfm score.';

CREATE FUNCTION segment.rfm_f(segment.rfm)
RETURNS integer
AS 'MODULE_PATHNAME', 'rfm_f'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rfm_f(segment.rfm) IS 'The frequency score F of an rfm score.';

CREATE FUNCTION segment.rfm_m(segment.rfm)
RETURNS integer
AS 'MODULE_PATHNAME', 'rfm_m'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rfm_m(segment.rfm) IS 'The monetary score M of an rfm score.';

-- Comparison: by R, then F, then M.
CREATE FUNCTION segment.rfm_eq(segment.rfm, segment.rfm) RETURNS boolean
AS 'MODULE_PATHNAME', 'rfm_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION segment.rfm_eq(segment.rfm, segment.rfm) IS 'The = operator of rfm scores.';
CREATE FUNCTION segment.rfm_ne(segment.rfm, segment.rfm) RETURNS boolean
AS 'MODULE_PATHNAME', 'rfm_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION segment.rfm_ne(segment.rfm, segment.rfm) IS 'The <> operator of rfm scores.';
CREATE FUNCTION segment.rfm_lt(segment.rfm, segment.rfm) RETURNS boolean
AS 'MODULE_PATHNAME', 'rfm_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION segment.rfm_lt(segment.rfm, segment.rfm) IS 'The < operator of rfm scores (by R, then F, then M).';
CREATE FUNCTION segment.rfm_le(segment.rfm, segment.rfm) RETURNS boolean
AS 'MODULE_PATHNAME', 'rfm_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION segment.rfm_le(segment.rfm, segment.rfm) IS 'The <= operator of rfm scores (by R, then F, then M).';
CREATE FUNCTION segment.rfm_gt(segment.rfm, segment.rfm) RETURNS boolean
AS 'MODULE_PATHNAME', 'rfm_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION segment.rfm_gt(segment.rfm, segment.rfm) IS 'The > operator of rfm scores (by R, then F, then M).';
CREATE FUNCTION segment.rfm_ge(segment.rfm, segment.rfm) RETURNS boolean
AS 'MODULE_PATHNAME', 'rfm_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION segment.rfm_ge(segment.rfm, segment.rfm) IS 'The >= operator of rfm scores (by R, then F, then M).';
CREATE FUNCTION segment.rfm_cmp(segment.rfm, segment.rfm) RETURNS integer
AS 'MODULE_PATHNAME', 'rfm_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION segment.rfm_cmp(segment.rfm, segment.rfm) IS 'Btree support: -1, 0 or 1 (by R, then F, then M).';
CREATE FUNCTION segment.rfm_hash(segment.rfm) RETURNS integer
AS 'MODULE_PATHNAME', 'rfm_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION segment.rfm_hash(segment.rfm) IS 'Hash support for rfm scores.';
CREATE FUNCTION segment.rfm_hash_extended(segment.rfm, bigint) RETURNS bigint
AS 'MODULE_PATHNAME', 'rfm_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION segment.rfm_hash_extended(segment.rfm, bigint) IS 'Seeded hash support for rfm scores.';

CREATE OPERATOR segment.= (
    LEFTARG = segment.rfm, RIGHTARG = segment.rfm, FUNCTION = segment.rfm_eq,
    COMMUTATOR = OPERATOR(segment.=), NEGATOR = OPERATOR(segment.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR segment.<> (
    LEFTARG = segment.rfm, RIGHTARG = segment.rfm, FUNCTION = segment.rfm_ne,
    COMMUTATOR = OPERATOR(segment.<>), NEGATOR = OPERATOR(segment.=),
    RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR segment.< (
    LEFTARG = segment.rfm, RIGHTARG = segment.rfm, FUNCTION = segment.rfm_lt,
    COMMUTATOR = OPERATOR(segment.>), NEGATOR = OPERATOR(segment.>=),
    RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR segment.<= (
    LEFTARG = segment.rfm, RIGHTARG = segment.rfm, FUNCTION = segment.rfm_le,
    COMMUTATOR = OPERATOR(segment.>=), NEGATOR = OPERATOR(segment.>),
    RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR segment.> (
    LEFTARG = segment.rfm, RIGHTARG = segment.rfm, FUNCTION = segment.rfm_gt,
    COMMUTATOR = OPERATOR(segment.<), NEGATOR = OPERATOR(segment.<=),
    RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);
CREATE OPERATOR segment.>= (
    LEFTARG = segment.rfm, RIGHTARG = segment.rfm, FUNCTION = segment.rfm_ge,
    COMMUTATOR = OPERATOR(segment.<=), NEGATOR = OPERATOR(segment.<),
    RESTRICT = scalargesel, JOIN = scalargejoinsel
);

CREATE OPERATOR CLASS segment.rfm_ops
    DEFAULT FOR TYPE segment.rfm USING btree AS
        OPERATOR 1 segment.<,
        OPERATOR 2 segment.<=,
        OPERATOR 3 segment.=,
        OPERATOR 4 segment.>=,
        OPERATOR 5 segment.>,
        FUNCTION 1 segment.rfm_cmp(segment.rfm, segment.rfm);

CREATE OPERATOR CLASS segment.rfm_hash_ops
    DEFAULT FOR TYPE segment.rfm USING hash AS
        OPERATOR 1 segment.=,
        FUNCTION 1 segment.rfm_hash(segment.rfm),
        FUNCTION 2 segment.rfm_hash_extended(segment.rfm, bigint);

-- ---------------------------------------------------------------------------
-- Configuration, cut points, scores and labels.
-- ---------------------------------------------------------------------------

-- One row: the configuration the next segment.rfm_refresh() uses.  Inserting
-- a row replaces the previous one (the trigger below), which is also what
-- lets a restored dump replace the default row that CREATE EXTENSION made.
CREATE TABLE segment.rfm_config (
    "window"        interval NOT NULL CHECK ("window" > interval '0'),
    bins            integer NOT NULL CHECK (bins BETWEEN 1 AND 9),
    method          text NOT NULL CHECK (method IN ('quantile', 'ntile', 'fixed')),
    thresholds      jsonb CHECK ((method = 'fixed') = (thresholds IS NOT NULL)),
    configured_at   timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE UNIQUE INDEX rfm_config_one_row ON segment.rfm_config ((true));
COMMENT ON TABLE segment.rfm_config IS
    'The RFM configuration (one row): window, number of bins, method, and the fixed method''s thresholds; set it with segment.rfm_configure().';

CREATE FUNCTION segment._rfm_replace_config()
RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM segment.rfm_config;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION segment._rfm_replace_config() IS
    'Trigger: a new RFM configuration replaces the previous one.';

CREATE TRIGGER rfm_config_replace BEFORE INSERT ON segment.rfm_config
    FOR EACH ROW EXECUTE FUNCTION segment._rfm_replace_config();

INSERT INTO segment.rfm_config ("window", bins, method) VALUES ('365 days', 5, 'quantile');

-- The cut points of the last full refresh, and the configuration it used:
-- bin k of a dimension holds the values in (lower_bound, upper_bound];
-- rescoring a customer reads them rather than ranking everyone again.
CREATE TABLE segment.rfm_thresholds (
    dimension       text NOT NULL CHECK (dimension IN ('recency', 'frequency', 'monetary')),
    bin             integer NOT NULL CHECK (bin BETWEEN 1 AND 9),
    score           integer NOT NULL CHECK (score BETWEEN 1 AND 9),
    lower_bound     numeric,
    upper_bound     numeric,
    method          text NOT NULL,
    bins            integer NOT NULL,
    "window"        interval NOT NULL,
    as_of           timestamptz NOT NULL,
    computed_at     timestamptz NOT NULL,
    PRIMARY KEY (dimension, bin)
);
COMMENT ON TABLE segment.rfm_thresholds IS
    'Cut points of the last segment.rfm_refresh(): bin k of a dimension holds values in (lower_bound, upper_bound] and gives the score in "score".';

CREATE TRIGGER rfm_thresholds_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON segment.rfm_thresholds FOR EACH STATEMENT EXECUTE FUNCTION segment._catalog_changed();

-- Scores, one row per customer with an order in the window.  A refresh
-- updates every row in place: half of each page is left free, so that the
-- new version fits beside the old one and the key's index is not touched
-- (a HOT update; rewriting the scores this way costs a third of deleting
-- and inserting them).
CREATE TABLE segment.customer_rfm (
    customer_id     text PRIMARY KEY,
    recency_days    integer NOT NULL,
    frequency       bigint NOT NULL,
    monetary        numeric NOT NULL,
    score           segment.rfm NOT NULL,
    scored_at       timestamptz NOT NULL,
    as_of           timestamptz NOT NULL,
    last_order_at   timestamptz NOT NULL    -- recency's source: lets a refresh move it
) WITH (fillfactor = 50);
COMMENT ON TABLE segment.customer_rfm IS
    'RFM values and score of each customer with an order in the window, as of as_of; rules read rfm, rfm.r, rfm.f, rfm.m and rfm_segment here.';

-- What the next segment.rfm_refresh() may move instead of aggregating the
-- window's orders again: the values in customer_rfm, exact as of as_of for
-- the orders visible to `snapshot` (the last refresh's statement), for every
-- customer that no transaction outside that snapshot rescored or changed
-- the orders of (segment.customer_turns.orders_changed_by: every writer of
-- customer_rfm but the refresh notes it); a customer with no row had no
-- order in the window.  No row: the next refresh reads every order of the
-- window.  Derived data: not dumped.
CREATE TABLE segment.rfm_store (
    only_row        boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    signature       text NOT NULL,      -- the orders' table, columns and the window
    as_of           timestamptz NOT NULL,
    computed_at     timestamptz NOT NULL,   -- the refresh's, as in rfm_thresholds
    snapshot        pg_snapshot NOT NULL,
    moved_from      timestamptz         -- the values moved, from then; null: aggregated
);
COMMENT ON TABLE segment.rfm_store IS
    'The time and snapshot the stored RFM values are exact for, so that the next rfm_refresh() moves them; delete the row to make it read every order again.';

-- The label map, editable.  Inserting a label that exists replaces it, so
-- that a restored dump overrides the standard map that CREATE EXTENSION made.
CREATE TABLE segment.rfm_labels (
    label           text PRIMARY KEY CHECK (label <> ''),
    r_min           integer NOT NULL CHECK (r_min BETWEEN 1 AND 9),
    r_max           integer NOT NULL CHECK (r_max BETWEEN 1 AND 9),
    f_min           integer NOT NULL CHECK (f_min BETWEEN 1 AND 9),
    f_max           integer NOT NULL CHECK (f_max BETWEEN 1 AND 9),
    priority        integer NOT NULL,
    CHECK (r_min <= r_max AND f_min <= f_max)
);
COMMENT ON TABLE segment.rfm_labels IS
    'Labels of RFM scores by ranges of R and F; where ranges overlap the lowest priority wins.';

CREATE FUNCTION segment._rfm_replace_label()
RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM segment.rfm_labels l WHERE l.label = NEW.label;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION segment._rfm_replace_label() IS
    'Trigger: an inserted RFM label replaces the label of the same name.';

CREATE TRIGGER rfm_labels_replace BEFORE INSERT ON segment.rfm_labels
    FOR EACH ROW EXECUTE FUNCTION segment._rfm_replace_label();

-- The usual map on R and F for five bins; it covers the 25 cells once each.
INSERT INTO segment.rfm_labels (label, r_min, r_max, f_min, f_max, priority) VALUES
    ('Champions',           5, 5, 4, 5,  10),
    ('Loyal Customers',     3, 4, 4, 5,  20),
    ('Potential Loyalists', 4, 5, 2, 3,  30),
    ('New Customers',       5, 5, 1, 1,  40),
    ('Promising',           4, 4, 1, 1,  50),
    ('Need Attention',      3, 3, 3, 3,  60),
    ('About To Sleep',      3, 3, 1, 2,  70),
    ('At Risk',             1, 2, 3, 4,  80),
    ('Can''t Lose Them',    1, 2, 5, 5,  90),
    ('Hibernating',         1, 2, 1, 2, 100);

SELECT pg_catalog.pg_extension_config_dump('segment.rfm_config', '');
SELECT pg_catalog.pg_extension_config_dump('segment.rfm_labels', '');
SELECT pg_catalog.pg_extension_config_dump('segment.rfm_thresholds', '');
SELECT pg_catalog.pg_extension_config_dump('segment.customer_rfm', '');

-- ---------------------------------------------------------------------------
-- Scoring.
-- ---------------------------------------------------------------------------

-- The tracked orders, or an error saying how to track them.
CREATE FUNCTION segment._rfm_orders(check_columns boolean)
RETURNS segment.sources
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    o segment.sources;
BEGIN
    SELECT * INTO o FROM segment.sources s WHERE s.kind = 'orders';
    IF o.relation IS NULL THEN
        RAISE EXCEPTION 'rfm scores need the orders table'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Call segment.track_orders() first.';
    END IF;
    IF NOT check_columns THEN
        RETURN o;
    END IF;
    -- a column renamed or retyped since tracking is named here, not deep
    -- inside the generated query
    PERFORM segment._check_column(o.relation, o.key_column, 'id', 'key');
    PERFORM segment._check_column(o.relation, o.customer_column, 'customer', 'key');
    PERFORM segment._check_column(o.relation, o.time_column, 'time', 'time');
    PERFORM segment._check_column(o.relation, o.amount_column, 'amount', 'number');
    RETURN o;
END
$$;
COMMENT ON FUNCTION segment._rfm_orders(boolean) IS
    'The tracked orders table, with its columns checked if asked, or an error if there is none.';

-- What RFM aggregates over an order row o, with windows from since_sql to
-- $1: {the row is in the window, the last order's time, the number of
-- orders}, the aggregates without their FILTER.  The
-- monetary sum is segment._amount_sum_sql()'s.  A trigger's evaluation of
-- the same customers adds them to its own aggregates (rescore.c).
CREATE FUNCTION segment._rfm_aggregates_sql(o segment.sources, since_sql text)
RETURNS text[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN ARRAY[
        format('o.%1$I > %2$s AND o.%1$I <= $1', o.time_column, since_sql),
        format('max(o.%I)', o.time_column),
        -- a unique order key makes count(DISTINCT), which sorts, unnecessary
        format('count(%s o.%I)',
               CASE WHEN segment._has_unique_index(o.relation, o.key_column) THEN '' ELSE 'DISTINCT' END,
               o.key_column)];
END
$$;
COMMENT ON FUNCTION segment._rfm_aggregates_sql(segment.sources, text) IS
    'The RFM window''s condition on an order row, and the aggregates of the last order''s time and of the orders.';

-- The query of each customer's recency, frequency and monetary value at $1
-- over the window $2: for every customer ('all'), or only for those in $3
-- or in a CTE named touched ('touched', rfm_refresh()'s moved values)
-- (keys as text, compared in the column's own type so its index serves),
-- planned for those keys ('listed') or once for any few keys ('each'), or
-- from values already aggregated ('given': keys $8, the last orders' times
-- $9, the numbers of orders $10 and the amounts $11, in arrays).  For
-- 'each', the window is left to the aggregates' FILTER: a generic plan
-- would combine the key with a time index and read every order of the
-- window; for many keys, the window in WHERE spares aggregating old orders.
CREATE FUNCTION segment._rfm_values_sql(o segment.sources, customers text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    agg text[] := segment._rfm_aggregates_sql(o, '$1 - $2');
    filter text := CASE WHEN customers = 'each' THEN format(' FILTER (WHERE %s)', agg[1]) ELSE '' END;
    listed text := format('o.%I = ANY (%s::%s[])', o.customer_column,
                          CASE WHEN customers = 'touched'
                               THEN '(SELECT pg_catalog.array_agg(t.customer_id) FROM touched t)'
                               ELSE '$3' END,
                          segment._column_type(o.relation, o.customer_column, 'customer'));
    raw text;
BEGIN
    IF customers IS NULL OR customers NOT IN ('all', 'listed', 'touched', 'each', 'given') THEN
        RAISE EXCEPTION 'customers must be all, listed, touched, each or given, not %', customers
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF customers = 'given' THEN
        raw := 'SELECT g.customer_id, g.last, g.frequency, g.monetary'
            ' FROM ROWS FROM (pg_catalog.unnest($8::text[]), pg_catalog.unnest($9::timestamptz[]),'
            ' pg_catalog.unnest($10::bigint[]), pg_catalog.unnest($11::numeric[]))'
            ' AS g(customer_id, last, frequency, monetary) WHERE g.frequency > 0';
    ELSE
        raw := format(
            'SELECT (o.%1$I)::text AS customer_id, (%2$s%3$s)::timestamptz AS last, %4$s%3$s AS frequency,'
            ' %5$s AS monetary'
            ' FROM %6$s o WHERE %7$s GROUP BY o.%1$I%8$s',
            o.customer_column, agg[2], filter, agg[3],
            -- in exact int8 units where the column allows (exact_units.c)
            segment._amount_sum_sql(o.relation, o.amount_column, format('o.%I', o.amount_column), filter),
            o.relation,
            CASE customers
                WHEN 'all' THEN agg[1] || format(' AND o.%I IS NOT NULL', o.customer_column)
                WHEN 'each' THEN listed
                ELSE agg[1] || ' AND ' || listed
                END,
            CASE WHEN customers = 'each' THEN ' HAVING count(*)' || filter || ' > 0' ELSE '' END);
    END IF;
    RETURN 'SELECT r.customer_id,'
        ' floor(extract(epoch FROM $1 - r.last) / 86400)::integer AS recency_days,'
        ' r.frequency, COALESCE(r.monetary, 0)::numeric AS monetary, r.last AS last_order_at'
        ' FROM (' || raw || ') r';
END
$$;
COMMENT ON FUNCTION segment._rfm_values_sql(segment.sources, text) IS
    'SQL computing recency days, distinct orders and amount per customer over the RFM window.';

-- What stored values depend on besides the orders' rows: the orders' table,
-- when it was tracked, its columns with their types, and the window.
CREATE FUNCTION segment._rfm_signature(o segment.sources, "window" interval)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
-- the same text in every session, whatever its settings
SET "TimeZone" = 'UTC'
SET "DateStyle" = 'ISO'
SET "IntervalStyle" = 'postgres'
BEGIN ATOMIC
    SELECT concat_ws(' ', o.relation::oid, o.tracked_at, "window",
                     string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod),
                                ', ' ORDER BY a.attname))
      FROM pg_attribute a
     WHERE a.attrelid = o.relation AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attname IN (o.key_column, o.customer_column, o.time_column, o.amount_column);
END;
COMMENT ON FUNCTION segment._rfm_signature(segment.sources, interval) IS
    'What the stored RFM values were computed from, besides the orders'' rows: table, columns, types and window.';

-- rfm_refresh()'s values moved from those stored as of $9 (read with the
-- snapshot $10) to $1, as CTEs ending in v.  Over the window $2 a customer
-- gains the orders in ($9, $1] and loses those in ($9 - $2, $1 - $2]; the
-- last order is the latest gained that is in the window, or else the stored
-- one (orders leave oldest first).  A customer with no row had no order in
-- the window at $9; one with none at $1 is in v with frequency 0.  Neither
-- holds for the customers in touched, whose orders a transaction outside
-- the snapshot changed, or rescored (perhaps as of another time): their
-- orders are aggregated instead.  Needs a unique order key: counts are
-- moved, not counted distinct.
CREATE FUNCTION segment._rfm_moved_sql(o segment.sources)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t text := format('o.%I', o.time_column);
    gained text := format('%1$s > $9 AND %1$s <= $1', t);
    lost text := format('%1$s > $9 - $2 AND %1$s <= $1 - $2', t);
    amount text := format('o.%I', o.amount_column);
BEGIN
    RETURN 'touched AS MATERIALIZED ('
        '   SELECT t.customer_id FROM segment.customer_turns t'
        '    WHERE t.orders_changed_by = pg_catalog.pg_current_xact_id_if_assigned()'  -- its own: seen by its snapshots
        '       OR NOT pg_catalog.pg_visible_in_snapshot(t.orders_changed_by, $10))'
        || format(
           ', edges AS ('
           '   SELECT (o.%1$I)::text AS customer_id,'
           '          count(*) FILTER (WHERE %2$s) - count(*) FILTER (WHERE %3$s) AS frequency,'
           '          COALESCE(%4$s, 0) - COALESCE(%5$s, 0) AS monetary,'
           '          max(%6$s) FILTER (WHERE %2$s AND %6$s > $1 - $2) AS last'
           '     FROM %7$s o WHERE ((%2$s) OR (%3$s)) AND o.%1$I IS NOT NULL GROUP BY o.%1$I)',
           o.customer_column, gained, lost,
           segment._amount_sum_sql(o.relation, o.amount_column, amount, format(' FILTER (WHERE %s)', gained)),
           segment._amount_sum_sql(o.relation, o.amount_column, amount, format(' FILTER (WHERE %s)', lost)),
           t, o.relation)
        || ', v AS MATERIALIZED ('
           '   SELECT m.customer_id, floor(extract(epoch FROM $1 - m.last) / 86400)::integer AS recency_days,'
           '          m.frequency, m.monetary, m.last AS last_order_at'
           '     FROM (SELECT COALESCE(c.customer_id, e.customer_id) AS customer_id,'
           '                  COALESCE(e.last, c.last_order_at) AS last,'
           '                  COALESCE(c.frequency, 0) + COALESCE(e.frequency, 0) AS frequency,'
           '                  COALESCE(c.monetary, 0) + COALESCE(e.monetary, 0) AS monetary'
           '             FROM segment.customer_rfm c FULL JOIN edges e ON e.customer_id = c.customer_id) m'
           '    WHERE NOT EXISTS (SELECT 1 FROM touched t WHERE t.customer_id = m.customer_id)'
           '   UNION ALL'
           '   SELECT t.customer_id, r.recency_days, COALESCE(r.frequency, 0), COALESCE(r.monetary, 0),'
           '          r.last_order_at'
           '     FROM touched t LEFT JOIN (' || segment._rfm_values_sql(o, 'touched') || ') r'
           '       ON r.customer_id = t.customer_id)';
END
$$;
COMMENT ON FUNCTION segment._rfm_moved_sql(segment.sources) IS
    'SQL moving the stored RFM values to a later time by the orders that crossed the window''s edges.';

-- A value's bin among ascending cut points (src/rfm_bin.c): bin k holds
-- (cut k-1, cut k], so a value on a cut point takes the lower bin.  One rule
-- for rfm_refresh() and for rescoring.
CREATE FUNCTION segment._rfm_bin(value numeric, cuts numeric[])
RETURNS integer
AS 'MODULE_PATHNAME', 'segment_rfm_bin'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment._rfm_bin(numeric, numeric[]) IS
    'The bin of a value among ascending cut points: 1 + the cut points below it (a value on one takes the lower bin); NULL cut points, empty bins, are not counted.';

CREATE FUNCTION segment.rfm_configure("window" interval DEFAULT '365 days', bins integer DEFAULT 5,
                                      method text DEFAULT 'quantile',
                                      recency_thresholds numeric[] DEFAULT NULL,
                                      frequency_thresholds numeric[] DEFAULT NULL,
                                      monetary_thresholds numeric[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    given jsonb := jsonb_build_object('recency', recency_thresholds, 'frequency', frequency_thresholds,
                                      'monetary', monetary_thresholds);
    dim text;
    cuts numeric[];
BEGIN
    IF rfm_configure."window" IS NULL OR rfm_configure.bins IS NULL OR rfm_configure.method IS NULL THEN
        RAISE EXCEPTION 'the rfm window, bins and method must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF rfm_configure."window" <= interval '0' THEN
        RAISE EXCEPTION 'the rfm window must be positive'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It was given as %s.', rfm_configure."window");
    END IF;
    IF rfm_configure.bins NOT BETWEEN 1 AND 9 THEN
        RAISE EXCEPTION 'the number of rfm bins must be between 1 and 9'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It was given as %s.', rfm_configure.bins),
                  HINT = 'Scores are single digits; 5 bins is usual.';
    END IF;
    IF rfm_configure.method NOT IN ('quantile', 'ntile', 'fixed') THEN
        RAISE EXCEPTION 'unknown rfm method "%"', rfm_configure.method
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The methods are quantile, ntile and fixed.';
    END IF;

    IF rfm_configure.method <> 'fixed' THEN
        IF recency_thresholds IS NOT NULL OR frequency_thresholds IS NOT NULL
           OR monetary_thresholds IS NOT NULL THEN
            RAISE EXCEPTION 'thresholds are only for the fixed method'
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('The %s method computes its cut points from the data.',
                                      rfm_configure.method),
                      HINT = 'Pass method => ''fixed'', or leave the thresholds out.';
        END IF;
        given := NULL;
    ELSE
        FOREACH dim IN ARRAY ARRAY['recency', 'frequency', 'monetary'] LOOP
            cuts := CASE dim WHEN 'recency' THEN recency_thresholds
                             WHEN 'frequency' THEN frequency_thresholds
                             ELSE monetary_thresholds END;
            IF cuts IS NULL AND rfm_configure.bins > 1 THEN
                RAISE EXCEPTION 'the fixed method needs % thresholds', dim
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = format('%s bins need %s ascending %s thresholds.',
                                          rfm_configure.bins, rfm_configure.bins - 1, dim),
                          HINT = format('Pass %s_thresholds => ARRAY[...].', dim);
            END IF;
            cuts := COALESCE(cuts, '{}');
            IF array_ndims(cuts) > 1 THEN
                RAISE EXCEPTION '% thresholds must be a one-dimensional array', dim
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            IF cardinality(cuts) <> rfm_configure.bins - 1 THEN
                RAISE EXCEPTION 'wrong number of % thresholds', dim
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = format('%s bins need %s thresholds, but %s were given.',
                                          rfm_configure.bins, rfm_configure.bins - 1, cardinality(cuts));
            END IF;
            IF array_position(cuts, NULL) IS NOT NULL THEN
                RAISE EXCEPTION '% thresholds must not be null', dim
                    USING ERRCODE = 'null_value_not_allowed',
                          DETAIL = format('Threshold %s is null.', array_position(cuts, NULL));
            END IF;
            FOR k IN 2 .. cardinality(cuts) LOOP
                IF cuts[k] <= cuts[k - 1] THEN
                    RAISE EXCEPTION '% thresholds must be strictly increasing', dim
                        USING ERRCODE = 'invalid_parameter_value',
                              DETAIL = format('Threshold %s is %s, but threshold %s is %s.',
                                              k, cuts[k], k - 1, cuts[k - 1]),
                              HINT = 'Thresholds are the upper bounds of the bins, lowest first; recency thresholds are days since the last order.';
                END IF;
            END LOOP;
            given := jsonb_set(given, ARRAY[dim], to_jsonb(cuts));
        END LOOP;
    END IF;

    INSERT INTO segment.rfm_config ("window", bins, method, thresholds)
    VALUES (rfm_configure."window", rfm_configure.bins, rfm_configure.method, given);
END
$$;
COMMENT ON FUNCTION segment.rfm_configure(interval, integer, text, numeric[], numeric[], numeric[]) IS
    'Sets the RFM window, number of bins and method (quantile, ntile or fixed with thresholds), for the next segment.rfm_refresh().';

CREATE FUNCTION segment.rfm_refresh(as_of timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off   -- inlining and optimizing, set off by cost estimates, cost more than they save
-- The scores are a CTE, with no statistics: the planner takes their keys
-- for 200 distinct values, prices a hash of them far too high, and sorts
-- them (on disk, at a million customers) to merge-join them instead.
SET enable_mergejoin = off
AS $$
DECLARE
    cfg segment.rfm_config;
    o segment.sources;
    b integer;
    stored_by text;     -- how values are computed now: segment._rfm_signature()
    stored segment.rfm_store;
    moving boolean;     -- the stored values are moved, not aggregated again
    cut_sql text;
    score_sql text;
    n bigint;
BEGIN
    IF as_of IS NULL THEN
        RAISE EXCEPTION 'as_of must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO cfg FROM segment.rfm_config c ORDER BY c.configured_at DESC LIMIT 1;
    o := segment._rfm_orders(check_columns => true);
    b := cfg.bins;
    -- one refresh at a time, and no rescoring with the cut points it replaces
    LOCK TABLE segment.customer_rfm IN SHARE ROW EXCLUSIVE MODE;
    -- the stored values can be moved here if they were computed the same
    -- way, with the cut points beside them, at this time or before
    stored_by := segment._rfm_signature(o, cfg."window");
    SELECT s.* INTO stored FROM segment.rfm_store s
     WHERE s.signature = stored_by AND s.as_of <= rfm_refresh.as_of
       AND segment._has_unique_index(o.relation, o.key_column)
       AND EXISTS (SELECT 1 FROM segment.rfm_thresholds t
                    WHERE t.as_of = s.as_of AND t.computed_at = s.computed_at);
    moving := FOUND;
    DELETE FROM segment.rfm_store;
    DELETE FROM segment.rfm_thresholds;

    IF cfg.method = 'ntile' THEN
        -- tiles by value, ties by key (text, bytewise) so every run agrees;
        -- each tile's largest value is kept as its upper bound
        cut_sql := format(
            ', tiled AS MATERIALIZED ('
            '   SELECT v.*, ntile(%1$s) OVER (ORDER BY v.recency_days, v.customer_id COLLATE "C") AS tr,'
            '          ntile(%1$s) OVER (ORDER BY v.frequency, v.customer_id COLLATE "C") AS tf,'
            '          ntile(%1$s) OVER (ORDER BY v.monetary, v.customer_id COLLATE "C") AS tm'
            '     FROM v WHERE v.frequency > 0)'
            ', cut AS (SELECT'
            '   ARRAY(SELECT max(t.recency_days)::numeric FROM generate_series(1, %2$s) k'
            '          LEFT JOIN tiled t ON t.tr = k GROUP BY k ORDER BY k) AS r,'
            '   ARRAY(SELECT max(t.frequency)::numeric FROM generate_series(1, %2$s) k'
            '          LEFT JOIN tiled t ON t.tf = k GROUP BY k ORDER BY k) AS f,'
            '   ARRAY(SELECT max(t.monetary) FROM generate_series(1, %2$s) k'
            '          LEFT JOIN tiled t ON t.tm = k GROUP BY k ORDER BY k) AS m)',
            b, b - 1);
        score_sql := format('SELECT v.customer_id, v.recency_days, v.frequency, v.monetary, v.last_order_at,'
                            ' %s - v.tr AS r, v.tf AS f, v.tm AS m FROM tiled v', b + 1);
    ELSE
        IF cfg.method = 'quantile' THEN
            cut_sql := ', cut AS (SELECT'
                ' (percentile_cont($3) WITHIN GROUP (ORDER BY v.recency_days))::numeric[] AS r,'
                ' (percentile_cont($3) WITHIN GROUP (ORDER BY v.frequency))::numeric[] AS f,'
                ' (percentile_cont($3) WITHIN GROUP (ORDER BY v.monetary))::numeric[] AS m'
                ' FROM v WHERE v.frequency > 0)';
        ELSE
            cut_sql := ', cut AS (SELECT $4::numeric[] AS r, $5::numeric[] AS f, $6::numeric[] AS m)';
        END IF;
        -- recency's bins count days, so its score runs the other way
        score_sql := format('SELECT v.customer_id, v.recency_days, v.frequency, v.monetary, v.last_order_at,'
                            ' %s - segment._rfm_bin(v.recency_days, c.r) AS r,'
                            ' segment._rfm_bin(v.frequency, c.f) AS f, segment._rfm_bin(v.monetary, c.m) AS m'
                            ' FROM v, cut c WHERE v.frequency > 0', b + 1);
    END IF;

    EXECUTE 'WITH '
        || CASE WHEN moving THEN segment._rfm_moved_sql(o)
                ELSE 'v AS MATERIALIZED (' || segment._rfm_values_sql(o, 'all') || ')' END
        || cut_sql
        || ', kept AS (INSERT INTO segment.rfm_thresholds'
           '   (dimension, bin, score, lower_bound, upper_bound, method, bins, "window", as_of, computed_at)'
           '   SELECT d.dimension, k, CASE WHEN d.dimension = ''recency'' THEN $7 + 1 - k ELSE k END,'
           '          CASE WHEN k > 1 THEN d.cuts[k - 1] END, CASE WHEN k < $7 THEN d.cuts[k] END,'
           '          $8, $7, $2, $1, now()'
           '     FROM cut, LATERAL (VALUES (''recency'', cut.r), (''frequency'', cut.f),'
           '                               (''monetary'', cut.m)) d(dimension, cuts),'
           '          generate_series(1, $7) k)'
        || ', scored AS MATERIALIZED ('
           '   SELECT s.customer_id, s.recency_days, s.frequency, s.monetary, segment.rfm(s.r, s.f, s.m) AS score,'
           '          s.last_order_at'
           '     FROM (' || score_sql || ') s)'
           -- those with no order in the window any more are deleted; the
           -- others are updated in place or inserted by one MERGE, one join
           -- of the scores with the table rather than an UPDATE's and an
           -- INSERT's each
        || CASE WHEN moving
                -- moved values say who has no order left: frequency 0
                THEN ', gone AS (DELETE FROM segment.customer_rfm c USING v'
                     '   WHERE v.frequency = 0 AND v.customer_id = c.customer_id)'
                ELSE ', gone AS (DELETE FROM segment.customer_rfm c'
                     '   WHERE NOT EXISTS (SELECT 1 FROM scored s WHERE s.customer_id = c.customer_id))' END
           -- what the next refresh moves from: these values, this statement's snapshot
        || ', kept_values AS (INSERT INTO segment.rfm_store (signature, as_of, computed_at, snapshot, moved_from)'
           '   VALUES ($11, $1, now(), pg_catalog.pg_current_snapshot(), $9))'
        || ' MERGE INTO segment.customer_rfm c USING scored s ON s.customer_id = c.customer_id'
           ' WHEN MATCHED THEN UPDATE SET recency_days = s.recency_days, frequency = s.frequency,'
           '   monetary = s.monetary, score = s.score, scored_at = now(), as_of = $1,'
           '   last_order_at = s.last_order_at'
           ' WHEN NOT MATCHED THEN INSERT (customer_id, recency_days, frequency, monetary, score, scored_at,'
           '   as_of, last_order_at)'
           '   VALUES (s.customer_id, s.recency_days, s.frequency, s.monetary, s.score, now(), $1,'
           '   s.last_order_at)'
    USING as_of, cfg."window",
          ARRAY(SELECT k::float8 / b FROM generate_series(1, b - 1) k),
          ARRAY(SELECT jsonb_array_elements_text(cfg.thresholds -> 'recency'))::numeric[],
          ARRAY(SELECT jsonb_array_elements_text(cfg.thresholds -> 'frequency'))::numeric[],
          ARRAY(SELECT jsonb_array_elements_text(cfg.thresholds -> 'monetary'))::numeric[],
          b, cfg.method, stored.as_of, stored.snapshot, stored_by;
    -- each scored customer is either updated or inserted
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION segment.rfm_refresh(timestamptz) IS
    'Scores every customer with an order in the window as of as_of, replacing the stored scores and cut points; returns the customers scored.';

CREATE FUNCTION segment._rfm_rescore(keys text[], as_of timestamptz)
RETURNS bigint
AS 'MODULE_PATHNAME', 'segment_rfm_rescore_keys'
LANGUAGE C VOLATILE STRICT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION segment._rfm_rescore(text[], timestamptz) IS
    'Rescores customers given by their canonical keys with the stored cut points (the maintenance triggers call the same code).';

CREATE FUNCTION segment.rfm_rescore(customers text[], as_of timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off   -- inlining and optimizing, set off by cost estimates, cost more than they save
AS $$
DECLARE
    o segment.sources;
    keys text[];
BEGIN
    IF as_of IS NULL THEN
        RAISE EXCEPTION 'as_of must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF customers IS NULL OR cardinality(customers) = 0 THEN
        RETURN 0;
    END IF;
    o := segment._rfm_orders(check_columns => false);
    -- keys in their canonical text form, as stored
    EXECUTE format('SELECT array_agg(DISTINCT ((k)::%s)::text) FROM unnest($1) k WHERE k IS NOT NULL',
                   segment._column_type(o.relation, o.customer_column, 'customer'))
       INTO keys USING customers;
    IF keys IS NULL THEN
        RETURN 0;
    END IF;
    -- the next refresh does not move these customers' values, rescored
    -- here perhaps as of another time (see segment.rfm_store)
    PERFORM segment._take_turns(keys, orders_changed => true);
    RETURN segment._rfm_rescore(keys, as_of);
END
$$;
COMMENT ON FUNCTION segment.rfm_rescore(text[], timestamptz) IS
    'Rescores the given customers as of as_of with the cut points of the last refresh; returns the customers scored.';

-- The number of bins scores are read with: those of the stored scores, or
-- of the configuration before the first refresh.
CREATE FUNCTION segment._rfm_bins()
RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT COALESCE((SELECT t.bins FROM segment.rfm_thresholds t LIMIT 1),
                    (SELECT c.bins FROM segment.rfm_config c ORDER BY c.configured_at DESC LIMIT 1));
END;
COMMENT ON FUNCTION segment._rfm_bins() IS
    'The number of bins of the stored RFM scores, or of the configuration if nothing is scored yet.';

CREATE FUNCTION segment.rfm_check(score segment.rfm)
RETURNS segment.rfm
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bins integer := segment._rfm_bins();
    part integer;
BEGIN
    FOR k IN 1 .. 3 LOOP
        part := CASE k WHEN 1 THEN segment.rfm_r(score) WHEN 2 THEN segment.rfm_f(score)
                       ELSE segment.rfm_m(score) END;
        IF part > bins THEN
            RAISE EXCEPTION 'invalid rfm score "%"', score
                USING ERRCODE = 'numeric_value_out_of_range',
                      DETAIL = format('%s is %s, but scores run from 1 to %s with %s bins.',
                                      (ARRAY['R', 'F', 'M'])[k], part, bins, bins),
                      HINT = 'The bins are those of the last segment.rfm_refresh(), or of segment.rfm_configure() before the first.';
        END IF;
    END LOOP;
    RETURN score;
END
$$;
COMMENT ON FUNCTION segment.rfm_check(segment.rfm) IS
    'Returns the score if each of its parts is within the configured number of bins, else raises an error.';

CREATE FUNCTION segment.rfm_label(score segment.rfm)
RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r integer := segment.rfm_r(segment.rfm_check(score));
    f integer := segment.rfm_f(score);
BEGIN
    RETURN (SELECT l.label FROM segment.rfm_labels l
             WHERE r BETWEEN l.r_min AND l.r_max AND f BETWEEN l.f_min AND l.f_max
             ORDER BY l.priority, l.label LIMIT 1);
END
$$;
COMMENT ON FUNCTION segment.rfm_label(segment.rfm) IS
    'The label of an rfm score from segment.rfm_labels (lowest priority first), or null if none covers it.';

-- The label as segment.rfm_label() gives it, joined rather than called per
-- row (stored scores are within their bins by construction): 4x faster.
CREATE VIEW segment.rfm_scores AS
SELECT c.customer_id, c.recency_days, c.frequency, c.monetary, c.score,
       l.label, c.scored_at, c.as_of
  FROM segment.customer_rfm c
  LEFT JOIN LATERAL (SELECT x.label FROM segment.rfm_labels x
                      WHERE segment.rfm_r(c.score) BETWEEN x.r_min AND x.r_max
                        AND segment.rfm_f(c.score) BETWEEN x.f_min AND x.f_max
                      ORDER BY x.priority, x.label LIMIT 1) l ON true;
COMMENT ON VIEW segment.rfm_scores IS 'Each scored customer''s RFM values, score and label.';

-- The bins are read inline rather than by segment._rfm_bins(), which is not
-- executable by the roles a view is granted to.
CREATE VIEW segment.rfm_grid AS
SELECT g_r.r, g_f.f, COALESCE(s.customers, 0) AS customers, COALESCE(s.revenue, 0) AS revenue,
       round(s.revenue / NULLIF(s.orders, 0), 2) AS avg_order_value,
       segment.rfm_label(segment.rfm(g_r.r, g_f.f, 1)) AS label
  FROM (SELECT COALESCE((SELECT t.bins FROM segment.rfm_thresholds t LIMIT 1),
                        (SELECT c.bins FROM segment.rfm_config c
                          ORDER BY c.configured_at DESC LIMIT 1)) AS bins) b
 CROSS JOIN generate_series(1, b.bins) g_r(r)
 CROSS JOIN generate_series(1, b.bins) g_f(f)
  LEFT JOIN (SELECT segment.rfm_r(c.score) AS r, segment.rfm_f(c.score) AS f,
                    count(*) AS customers, sum(c.monetary) AS revenue, sum(c.frequency) AS orders
               FROM segment.customer_rfm c
              GROUP BY 1, 2) s ON s.r = g_r.r AND s.f = g_f.f;
COMMENT ON VIEW segment.rfm_grid IS
    'Customers, revenue and average order value in each cell of the R by F grid, with its label, for BI tools.';
