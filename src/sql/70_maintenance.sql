
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
    turns           bigint NOT NULL DEFAULT 1
);
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

CREATE FUNCTION segment._take_turns(customers text[])
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO segment.customer_turns AS t (customer_id)
    SELECT c FROM unnest(customers) c ORDER BY c
    ON CONFLICT (customer_id) DO UPDATE SET turns = t.turns + 1;
END;
COMMENT ON FUNCTION segment._take_turns(text[]) IS
    'Locks the maintenance rows of the given customers, in key order.';

-- The customers a statement touched, as a query over its transition tables.
CREATE FUNCTION segment._touched_sql(kind text, rows_table text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s segment.sources;
    o segment.sources;
    i segment.sources;
BEGIN
    SELECT * INTO s FROM segment.sources x WHERE x.kind = _touched_sql.kind;
    SELECT * INTO o FROM segment.sources x WHERE x.kind = 'orders';
    SELECT * INTO i FROM segment.sources x WHERE x.kind = 'order_items';
    RETURN CASE kind
        WHEN 'customers' THEN format('SELECT (r.%I)::text FROM %I r', s.key_column, rows_table)
        WHEN 'orders' THEN format('SELECT (r.%I)::text FROM %I r', s.customer_column, rows_table)
        WHEN 'events' THEN format('SELECT (r.%I)::text FROM %I r', s.customer_column, rows_table)
        WHEN 'order_items' THEN format(
            'SELECT (o.%I)::text FROM %s o WHERE o.%I IN (SELECT r.%I FROM %I r)',
            o.customer_column, o.relation, o.key_column, s.order_column, rows_table)
        WHEN 'products' THEN format(
            'SELECT (o.%I)::text FROM %s o JOIN %s i ON i.%I = o.%I WHERE i.%I IN (SELECT r.%I FROM %I r)',
            o.customer_column, o.relation, i.relation, i.order_column, o.key_column,
            i.product_column, s.key_column, rows_table)
    END;
END
$$;
COMMENT ON FUNCTION segment._touched_sql(text, text) IS
    'SQL listing the customers whose rows are in a transition table of a tracked table.';

CREATE FUNCTION segment._maintain()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    source_kind text := TG_ARGV[0];
    ids integer[];
    touched text;
    customers text[];
    rescore boolean;
    as_of timestamptz;
BEGIN
    -- a table that is no longer tracked under this kind: nothing to do
    PERFORM 1 FROM segment.sources s WHERE s.kind = source_kind AND s.relation = TG_RELID;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- RFM scores follow orders, and so do the segments that read them
    ids := ARRAY(SELECT s.id FROM segment.segments s
                  WHERE s.mode = 'incremental'
                    AND (source_kind = ANY (s.sources)
                         OR (source_kind = 'orders' AND 'rfm' = ANY (s.sources))));
    rescore := source_kind = 'orders' AND EXISTS (SELECT 1 FROM segment.rfm_thresholds);
    IF cardinality(ids) = 0 AND NOT rescore THEN
        RETURN NULL;
    END IF;
    ids := segment._maintained_with_dependants(ids);

    IF TG_OP <> 'TRUNCATE' THEN
        touched := CASE TG_OP
            WHEN 'INSERT' THEN segment._touched_sql(source_kind, 'segment_new_rows')
            WHEN 'DELETE' THEN segment._touched_sql(source_kind, 'segment_old_rows')
            ELSE segment._touched_sql(source_kind, 'segment_new_rows') || ' UNION '
                 || segment._touched_sql(source_kind, 'segment_old_rows') END;
        EXECUTE format('SELECT array_agg(DISTINCT t.c ORDER BY t.c) FROM (%s) t(c) WHERE t.c IS NOT NULL',
                       touched)
           INTO customers;
        IF customers IS NULL THEN
            RETURN NULL;
        END IF;
    END IF;

    -- Wait for a running define or full refresh of these segments, and for
    -- other transactions maintaining the same customers.  Where waiting is
    -- not enough (repeatable read), fail rather than store a stale result.
    BEGIN
        PERFORM 1 FROM segment.segments s WHERE s.id = ANY (ids) ORDER BY s.id FOR SHARE;
        IF customers IS NOT NULL THEN
            PERFORM segment._take_turns(customers);
        END IF;
    EXCEPTION WHEN serialization_failure THEN
        RAISE EXCEPTION 'could not maintain segments: a concurrent transaction changed the same customers or segments'
            USING ERRCODE = 'serialization_failure',
                  DETAIL = format('%s on %s touched customers that another transaction maintained, or segments it redefined, after this transaction''s snapshot was taken.',
                                  TG_OP, TG_TABLE_NAME),
                  HINT = 'Retry the transaction.';
    END;

    as_of := segment._clock(ids);
    IF rescore THEN
        IF customers IS NULL THEN
            PERFORM segment.rfm_refresh(as_of);
        ELSE
            PERFORM segment.rfm_rescore(customers, as_of);
        END IF;
    END IF;
    IF cardinality(ids) > 0 THEN
        PERFORM segment._apply(ids, as_of, 'data', customers);
    END IF;
    RETURN NULL;
END
$$;
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
