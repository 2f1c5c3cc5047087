-- Helpers for the benchmarks: timing inside the server (no client round
-- trips in the figures), medians, and a way to measure statements that
-- change data without keeping the change.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;

-- Runs `sql` once to warm up, then `reps` times, and returns the median in
-- milliseconds.  With undo, each run happens in a subtransaction that is
-- rolled back, so every run does the same work on the same data.
CREATE FUNCTION bench.median_ms(sql text, reps int DEFAULT 3, undo boolean DEFAULT false)
RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
    times double precision[] := '{}';
    started timestamptz;
    took double precision;
BEGIN
    FOR i IN 0..reps LOOP
        BEGIN
            started := clock_timestamp();
            EXECUTE sql;
            took := extract(epoch FROM clock_timestamp() - started) * 1000;
            IF undo THEN
                RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'bench: undo';
            END IF;
        EXCEPTION WHEN raise_exception THEN
            IF SQLERRM <> 'bench: undo' THEN
                RAISE;
            END IF;
        END;
        IF i > 0 THEN
            times := times || took;
        END IF;
    END LOOP;
    RETURN (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY t) FROM unnest(times) t);
END
$$;

-- Latency of one call, as the median over many calls, in milliseconds.
CREATE FUNCTION bench.p50_call_ms(sql text, calls int DEFAULT 2000)
RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
    times double precision[] := '{}';
    started timestamptz;
    customers bigint := (SELECT max(id) FROM shop.customers);
BEGIN
    EXECUTE format('PREPARE bench_call(bigint) AS %s', sql);
    FOR i IN 1..calls LOOP
        started := clock_timestamp();
        EXECUTE format('EXECUTE bench_call(%s)', 1 + (i * 7919) % customers);
        IF i > 100 THEN
            times := times || extract(epoch FROM clock_timestamp() - started) * 1000;
        END IF;
    END LOOP;
    DEALLOCATE bench_call;
    RETURN (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY t) FROM unnest(times) t);
END
$$;
