
-- ---------------------------------------------------------------------------
-- Incremental maintenance: statement triggers with transition tables on the
-- store's tables re-evaluate, in the same transaction, only the customers a
-- statement touched, and only the segments that read that table.
-- ---------------------------------------------------------------------------

-- One row per customer ever maintained.  Maintenance upserts the rows of the
-- customers it revisits, in key order, before it evaluates them: two
-- transactions revisiting one customer then take turns (READ COMMITTED) or
-- the second gets a serialization failure (REPEATABLE READ, SERIALIZABLE),
-- so neither can miss the other's rows.  Different customers never wait.
CREATE TABLE segment.customer_turns (
    customer_id     text PRIMARY KEY,
    turns           bigint NOT NULL DEFAULT 1,
    -- the last transaction that changed the customer's orders (or rescored
    -- them by hand): segment.rfm_refresh() moves only the stored RFM values
    -- of customers that no transaction outside its last snapshot changed
    orders_changed_by xid8,
    -- the last transaction to take the turn: tick() finds the customers that
    -- maintenance evaluated after the clock's store last moved (their
    -- membership may be of a time the store never was at)
    turned_by       xid8
) WITH (fillfactor = 50);  -- room on its page for each row's next version: a turn is a HOT update
COMMENT ON TABLE segment.customer_turns IS
    'Per-customer row lock taken by maintenance, so concurrent writers for one customer are serialised.';

-- The time maintenance evaluates at: now, unless the segments were already
-- brought to a later time (a tick or refresh with a future as_of); the
-- clock of a segment never goes back behind its members.
CREATE FUNCTION segment._clock(ids integer[])
RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT GREATEST(now(), max(s.as_of)) FROM segment.segments s WHERE s.id = ANY (ids);
END;
COMMENT ON FUNCTION segment._clock(integer[]) IS
    'The as_of for maintaining segments: now(), or the latest as_of they were brought to.';

CREATE FUNCTION segment._take_turns(customers text[], orders_changed boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'segment_take_turns'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION segment._take_turns(text[], boolean) IS
    'Locks the maintenance rows of the given customers, in key order, noting whether their orders changed.';

-- The trigger (src/maintain.c): reads the touched customers from the
-- transition tables, takes the locks above, rescores RFM and runs the engine.
CREATE FUNCTION segment._maintain()
RETURNS trigger
AS 'MODULE_PATHNAME', 'segment_maintain'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off;  -- inlining and optimizing, set off by cost estimates, cost more than they save
COMMENT ON FUNCTION segment._maintain() IS
    'Statement trigger on tracked tables: re-evaluates the touched customers in the segments that read the table.';

-- (Re)installs the maintenance triggers on a tracked table.
CREATE FUNCTION segment._install_triggers(relation regclass, kind text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM segment._drop_triggers(relation);
    EXECUTE format('CREATE TRIGGER segment_after_insert AFTER INSERT ON %s'
                   ' REFERENCING NEW TABLE AS segment_new_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION segment._maintain(%L)', relation, kind);
    EXECUTE format('CREATE TRIGGER segment_after_update AFTER UPDATE ON %s'
                   ' REFERENCING OLD TABLE AS segment_old_rows NEW TABLE AS segment_new_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION segment._maintain(%L)', relation, kind);
    EXECUTE format('CREATE TRIGGER segment_after_delete AFTER DELETE ON %s'
                   ' REFERENCING OLD TABLE AS segment_old_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION segment._maintain(%L)', relation, kind);
    EXECUTE format('CREATE TRIGGER segment_after_truncate AFTER TRUNCATE ON %s'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION segment._maintain(%L)', relation, kind);
END
$$;
COMMENT ON FUNCTION segment._install_triggers(regclass, text) IS
    'Creates the statement triggers that keep segments current as a tracked table changes.';

CREATE FUNCTION segment._drop_triggers(relation regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t name;
BEGIN
    FOR t IN SELECT tgname FROM pg_trigger
              WHERE tgrelid = relation AND NOT tgisinternal
                AND tgfoid = 'segment._maintain()'::regprocedure LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', t, relation);
    END LOOP;
END
$$;
COMMENT ON FUNCTION segment._drop_triggers(regclass) IS
    'Removes segment''s maintenance triggers from a table.';
