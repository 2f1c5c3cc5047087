
-- ---------------------------------------------------------------------------
-- The clock: "no order in 90 days" becomes true with time alone.  tick()
-- revisits only the customers whose rows crossed a window edge since the
-- segments were last brought current (or, where the move of the clock's
-- store can tell, those for whom it changed a rule's comparison), and gives
-- the same membership as a full refresh at the same as_of.
-- ---------------------------------------------------------------------------

CREATE FUNCTION segment._tick_sql(segment_ids integer[], by_condition boolean, rows text DEFAULT 'all')
RETURNS text
AS 'MODULE_PATHNAME', 'segment_tick_sql'
LANGUAGE C STABLE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION segment._tick_sql(integer[], boolean, text) IS
    'The query listing the customers the clock may have moved in or out of the given segments; NULL if all.  Without by_condition, rows near an edge whatever they are: the same query for segments whose windows end alike.  rows: whose rows near an edge it reads, all, listed (the customers of $3) or none.';

CREATE FUNCTION segment.tick(as_of timestamptz DEFAULT now())
RETURNS TABLE (segment text, revisited bigint, entered bigint, exited bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    clocked integer[];
    scheduled integer[];
    reached integer[];
    since timestamptz;
    latest timestamptz;
    store_from timestamptz;         -- the clock's store's time before this tick
    store_snapshot pg_snapshot;
    unsettled text[];               -- customers whose changes the store's move cannot tell
    flips boolean := false;
    g record;
    customers text[];
    everyone integer[] := '{}';     -- segments whose clock effects cannot be narrowed
    groups jsonb[] := '{}';         -- {ids, customers}: what each group revisits
    grp jsonb;
    r record;
    k integer;
    names text[] := '{}';           -- what the groups' rows add up to, per segment
    revisits bigint[] := '{}';
    entries bigint[] := '{}';
    exits bigint[] := '{}';
    failure text;
BEGIN
    IF as_of IS NULL THEN
        RAISE EXCEPTION 'as_of must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    clocked := ARRAY(SELECT s.id FROM segment.segments s
                      WHERE s.mode = 'incremental' AND s.uses_clock ORDER BY s.id);
    scheduled := ARRAY(SELECT s.id FROM segment.segments s WHERE s.mode = 'scheduled' ORDER BY s.id);
    reached := segment._with_dependants(clocked || scheduled);
    PERFORM 1 FROM segment.segments s WHERE s.id = ANY (reached) ORDER BY s.id FOR UPDATE;

    -- A failure (say, a tracked column dropped) is recorded on the segments
    -- it stopped, for segment.status, and the rest of the tick goes on.
    IF cardinality(clocked) > 0 THEN
        BEGIN
            SELECT min(s.as_of), max(s.as_of) INTO since, latest FROM segment.segments s WHERE s.id = ANY (clocked);
            SELECT c.as_of, c.snapshot INTO store_from, store_snapshot FROM segment.clock_store c;
            -- counts and sums moved to as_of by the rows near window edges,
            -- for the groups below to read instead of whole histories
            -- (a statement of its own: in one expression with the tests
            -- below, it could be skipped, and the flips read before it)
            flips := segment._clock_store_sync(as_of, false) = 'moved';
            flips := flips AND store_from = since AND latest = since AND as_of > since
                     AND EXISTS (SELECT 1 FROM segment.clock_flips f);
            -- When membership and the store stood at one time and the clock
            -- goes on, a customer's membership is the rule at that time,
            -- unless maintenance evaluated the customer later (a turn the
            -- store's snapshot did not see, or this transaction's own,
            -- which a snapshot of its own counts as seen) or the customer's
            -- row of the store is stale.  For the others, the move told
            -- which rules' comparisons it changed (segment.clock_flips).
            IF flips THEN
                unsettled := ARRAY(SELECT t.customer_id FROM segment.customer_turns t
                                    WHERE t.turned_by = pg_current_xact_id_if_assigned()
                                       OR NOT COALESCE(pg_visible_in_snapshot(t.turned_by, store_snapshot), false)
                                   UNION
                                   SELECT s.customer_id FROM segment.clock_stale s);
            END IF;
            FOR g IN SELECT t.q, array_agg(t.id ORDER BY t.id) AS ids
                       FROM (SELECT c.id, segment._tick_sql(ARRAY[c.id], false) AS q FROM unnest(clocked) c(id)) t
                      GROUP BY t.q
            LOOP
                IF g.q IS NULL OR since IS NULL THEN
                    everyone := everyone || g.ids;
                    CONTINUE;
                END IF;
                -- each group of segments with the same window edges revisits
                -- only the customers whose rows crossed those edges, and of
                -- those rows only the ones some rule of the group counts;
                -- with the move's flips, only the customers it changed a
                -- comparison for, and the unsettled ones by their rows
                IF flips AND (SELECT count(*) FROM segment.clock_flips f
                               WHERE f.segment_id = ANY (g.ids) AND f.moved_from = since
                                 AND f.moved_to = tick.as_of) = cardinality(g.ids) THEN
                    EXECUTE format('SELECT array_agg(DISTINCT t.c ORDER BY t.c) FROM (%s'
                                   ' UNION ALL SELECT pg_catalog.unnest(f.customers) FROM segment.clock_flips f'
                                   ' WHERE f.segment_id = ANY ($4)) t(c) WHERE t.c IS NOT NULL',
                                   segment._tick_sql(g.ids, true,
                                                     CASE WHEN cardinality(unsettled) > 0 THEN 'listed' ELSE 'none' END))
                       INTO customers USING as_of, since, unsettled, g.ids;
                ELSE
                    EXECUTE format('SELECT array_agg(DISTINCT t.c ORDER BY t.c) FROM (%s) t(c) WHERE t.c IS NOT NULL',
                                   segment._tick_sql(g.ids, true))
                       INTO customers USING as_of, since;
                END IF;
                IF customers IS NOT NULL THEN
                    groups := groups || jsonb_build_object('ids', g.ids, 'customers', customers);
                END IF;
            END LOOP;
            IF cardinality(everyone) > 0 THEN
                RETURN QUERY SELECT a.segment, a.members, a.entered, a.exited
                               FROM segment._apply(segment._with_dependants(everyone, maintained_only => true), as_of, 'clock') a;
            END IF;
            IF cardinality(groups) > 0 THEN
                -- no customer turns: the segments are locked FOR UPDATE, and
                -- whoever maintains them for a customer waits on FOR SHARE
                -- one group after the other, each seeing what the last wrote;
                -- a dependant reached from two groups is summed into one row
                FOREACH grp IN ARRAY groups LOOP
                    customers := ARRAY(SELECT jsonb_array_elements_text(grp -> 'customers'));
                    FOR r IN SELECT a.* FROM segment._apply(
                                 segment._with_dependants(
                                     ARRAY(SELECT (jsonb_array_elements_text(grp -> 'ids'))::integer), maintained_only => true),
                                 as_of, 'clock', customers) a
                    LOOP
                        k := array_position(names, r.segment);
                        IF k IS NULL THEN
                            names := names || r.segment;
                            revisits := revisits || cardinality(customers)::bigint;
                            entries := entries || r.entered;
                            exits := exits || r.exited;
                        ELSE
                            revisits[k] := revisits[k] + cardinality(customers);
                            entries[k] := entries[k] + r.entered;
                            exits[k] := exits[k] + r.exited;
                        END IF;
                    END LOOP;
                END LOOP;
                RETURN QUERY SELECT * FROM unnest(names, revisits, entries, exits) ORDER BY 1;
            END IF;
            UPDATE segment.segments s
               SET as_of = tick.as_of, refreshed_at = clock_timestamp(), last_error = NULL, last_error_at = NULL
             WHERE s.id = ANY (clocked);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS failure = MESSAGE_TEXT;
            UPDATE segment.segments s SET last_error = failure, last_error_at = clock_timestamp()
             WHERE s.id = ANY (clocked);
            RAISE WARNING 'segment.tick() could not bring % segments current: %', cardinality(clocked), failure
                USING HINT = 'See last_error in segment.status.';
        END;
    END IF;

    IF cardinality(scheduled) > 0 THEN
        BEGIN
            RETURN QUERY SELECT a.segment, a.members, a.entered, a.exited
                           FROM segment._apply(scheduled, as_of, 'clock') a;
            UPDATE segment.segments s SET last_error = NULL, last_error_at = NULL
             WHERE s.id = ANY (scheduled);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS failure = MESSAGE_TEXT;
            UPDATE segment.segments s SET last_error = failure, last_error_at = clock_timestamp()
             WHERE s.id = ANY (scheduled);
            RAISE WARNING 'segment.tick() could not refresh % scheduled segments: %', cardinality(scheduled), failure
                USING HINT = 'See last_error in segment.status.';
        END;
    END IF;
END
$$;
COMMENT ON FUNCTION segment.tick(timestamptz) IS
    'Brings time-dependent segments current: revisits only customers whose windows crossed an edge, and refreshes scheduled segments.';
