-- Helpers for the benchmarks: timing inside the server (no client round
-- trips in the figures), medians, and a way to measure statements that
-- change data without keeping the change.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;

-- Runs `sql` once to warm up, then `reps` times, and returns the median in
-- milliseconds.  Each run is a transaction of its own, as a scheduled
-- refresh is (a run does not meet the row versions the one before it left
-- behind, still visible to it); with undo, each run is rolled back instead,
-- so every run does the same work on the same data.  A procedure, for the
-- COMMIT: CALL bench.median_ms(sql, reps, undo, NULL) returns ms.
CREATE PROCEDURE bench.median_ms(sql text, reps int DEFAULT 3, undo boolean DEFAULT false,
                                 INOUT ms double precision DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    times double precision[] := '{}';
    started timestamptz;
    took double precision;
BEGIN
    FOR i IN 0..reps LOOP
        started := clock_timestamp();
        IF undo THEN
            BEGIN
                EXECUTE sql;
                took := extract(epoch FROM clock_timestamp() - started) * 1000;
                RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'bench: undo';
            EXCEPTION WHEN raise_exception THEN
                IF SQLERRM <> 'bench: undo' THEN
                    RAISE;
                END IF;
            END;
        ELSE
            EXECUTE sql;
            COMMIT;
            took := extract(epoch FROM clock_timestamp() - started) * 1000;
        END IF;
        IF i > 0 THEN
            times := times || took;
        END IF;
    END LOOP;
    ms := (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY t) FROM unnest(times) t);
END
$$;

-- Latency of one call: p50 over 1,900 calls, one call per customer spread
-- over the whole table.  The first pass meets each customer's pages for the
-- first time (read from the OS cache, or the disk); then, as everywhere in
-- this harness, a figure is the median of 3 runs after that warm-up.
-- Returns {first pass, median of the 3 warm passes}.
CREATE FUNCTION bench.p50_call_ms(sql text, calls int DEFAULT 1900)
RETURNS double precision[]
LANGUAGE plpgsql AS $$
DECLARE
    times double precision[];
    p50s double precision[] := '{}';
    started timestamptz;
    customers bigint := (SELECT max(id) FROM shop.customers);
BEGIN
    EXECUTE format('PREPARE bench_call(bigint) AS %s', sql);
    FOR pass IN 0..3 LOOP
        times := '{}';
        FOR i IN 1..calls LOOP
            started := clock_timestamp();
            EXECUTE format('EXECUTE bench_call(%s)', 1 + (i * 7919) % customers);
            times := times || extract(epoch FROM clock_timestamp() - started) * 1000;
        END LOOP;
        p50s := p50s || (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY t) FROM unnest(times) t);
    END LOOP;
    DEALLOCATE bench_call;
    RETURN ARRAY[p50s[1], (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY t) FROM unnest(p50s[2:4]) t)];
END
$$;
