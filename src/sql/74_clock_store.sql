
-- ---------------------------------------------------------------------------
-- The clock's store: the counts and sums of the incremental segments' rules,
-- per customer, as of one time.  tick() moves them by the rows near window
-- edges instead of aggregating whole histories (src/compile_store.c says
-- how).  It is derived data: not dumped, and built again when missing.
-- ---------------------------------------------------------------------------

-- Which features the rows hold (the signature changes with the rules), and
-- as of when.  No row: nothing is stored, or it must be built again.  Both
-- tables are unlogged: a tick rewrites tens of thousands of rows spread over
-- the whole table, and logging them would cost a full page image each after
-- every checkpoint, for data that can be built again; after a crash both
-- are empty, which reads as "build it again".
CREATE UNLOGGED TABLE segment.clock_store (
    only_row        boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    signature       text NOT NULL,
    as_of           timestamptz NOT NULL,
    -- taken when the rows were built or moved to as_of: a customer whose
    -- turn (segment.customer_turns.turned_by) it does not see was evaluated
    -- later than as_of, by maintenance
    snapshot        pg_snapshot NOT NULL
);
COMMENT ON TABLE segment.clock_store IS
    'The layout and time of segment.clock_features; no row when it must be built.';

-- One array per source (orders, items, events), an element per feature.
-- A missing row means every feature is 0.
CREATE UNLOGGED TABLE segment.clock_features (
    customer_id     text PRIMARY KEY,
    fo              numeric[],
    fi              numeric[],
    fe              numeric[]
) WITH (fillfactor = 70);  -- a tick updates rows in place (HOT), beside the old version
COMMENT ON TABLE segment.clock_features IS
    'Per customer, the counts and sums the clock moves from tick to tick, as of segment.clock_store.as_of.';

-- The customers whose data changed under their row of clock_features (an
-- order older than the store's time, say): their row is built again before
-- it is read.  A table of its own, narrow and mostly empty, so that marking
-- the customers of a large COPY inserts keys instead of rewriting their
-- wide rows of features.
CREATE UNLOGGED TABLE segment.clock_stale (
    customer_id     text PRIMARY KEY
);
COMMENT ON TABLE segment.clock_stale IS
    'Customers whose row of segment.clock_features is out of date, to be built again before it is read.';

-- Per segment, the customers for whom the last move of the store changed
-- the truth of a comparison in the segment's rule (src/compile_store.c), the
-- move's times with them: tick() revisits those, and not every customer
-- with a row near an edge.  Only segments whose rules compare kept counts
-- and sums with constants have a row.
CREATE UNLOGGED TABLE segment.clock_flips (
    segment_id      integer PRIMARY KEY,
    customers       text[] NOT NULL,
    moved_from      timestamptz NOT NULL,
    moved_to        timestamptz NOT NULL
);
COMMENT ON TABLE segment.clock_flips IS
    'Per segment, the customers whose rule comparisons the last move of segment.clock_features changed.';

CREATE FUNCTION segment._clock_store_sync(as_of timestamptz, build_only boolean)
RETURNS text
AS 'MODULE_PATHNAME', 'segment_clock_store_sync'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off;  -- the estimates of its joins are far off, and compiling costs a second
COMMENT ON FUNCTION segment._clock_store_sync(timestamptz, boolean) IS
    'Builds the clock''s store as of as_of if it holds other features or none, else (unless build_only) moves it to as_of; says which.';

CREATE FUNCTION segment._counts_add(a numeric[], b numeric[])
RETURNS numeric[]
AS 'MODULE_PATHNAME', 'segment_counts_add'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION segment._counts_moved(a numeric[])
RETURNS bigint
AS 'MODULE_PATHNAME', 'segment_counts_moved'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION segment._counts_moved(numeric[]) IS
    'A bit per element that is not 0 (element k as bit k - 1, the 64th and later as bit 63): which counts a move changed.';

COMMENT ON FUNCTION segment._counts_add(numeric[], numeric[]) IS
    'Element-wise sum of two count arrays, a NULL or missing element counting as 0: how tick() moves a row of segment.clock_features.';
