
-- ---------------------------------------------------------------------------
-- Tracking: the store tells segment which of its tables hold customers,
-- orders, order items, products and events, and which column plays which
-- part.  Nothing is copied or renamed.
-- ---------------------------------------------------------------------------

-- The type of a column, or an error that names it and the columns there are.
CREATE FUNCTION segment._column_type(relation regclass, col name, part text)
RETURNS regtype
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result regtype;
BEGIN
    IF col IS NULL THEN
        RAISE EXCEPTION 'the % column of % must not be null', part, relation
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT a.atttypid::regtype INTO result
      FROM pg_attribute a
     WHERE a.attrelid = relation AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
    IF result IS NULL THEN
        RAISE EXCEPTION 'column "%" of % does not exist', col, relation
            USING ERRCODE = 'undefined_column',
                  DETAIL = format('It was given as the %s column.', part),
                  HINT = (SELECT 'Its columns are: ' || string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) || '.'
                            FROM pg_attribute a
                           WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped);
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION segment._column_type(regclass, name, text) IS
    'The type of a column of a tracked table, or an error naming the missing column.';

-- Checks that a column's type is in one of the allowed groups.
CREATE FUNCTION segment._check_column(relation regclass, col name, part text, allowed text)
RETURNS regtype
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t regtype := segment._column_type(relation, col, part);
    base regtype := (SELECT CASE WHEN typtype = 'd' THEN typbasetype ELSE oid END
                       FROM pg_type WHERE oid = t);
    ok boolean;
BEGIN
    ok := CASE allowed
        WHEN 'key' THEN base IN ('smallint', 'integer', 'bigint', 'uuid', 'text', 'character varying')
        WHEN 'time' THEN base IN ('date', 'timestamp without time zone', 'timestamp with time zone')
        WHEN 'number' THEN (SELECT typcategory = 'N' FROM pg_type WHERE oid = base)
        WHEN 'text' THEN (SELECT typcategory IN ('S', 'E') FROM pg_type WHERE oid = base)
    END;
    IF NOT ok THEN
        RAISE EXCEPTION 'column "%" of % has type %, which cannot be the % column', col, relation, t, part
            USING ERRCODE = 'datatype_mismatch',
                  HINT = CASE allowed
                      WHEN 'key' THEN 'Keys may be smallint, integer, bigint, uuid, text or varchar.'
                      WHEN 'time' THEN 'Times may be date, timestamp or timestamptz.'
                      WHEN 'number' THEN 'Amounts must be numbers.'
                      ELSE 'Kinds must be text.' END;
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION segment._check_column(regclass, name, text, text) IS
    'Checks that a tracked column exists and has a usable type.';

-- The valid, non-partial indexes whose first key column is col: those a
-- lookup by that column alone can use.
CREATE FUNCTION segment._indexes_led_by(relation regclass, col name)
RETURNS SETOF pg_catalog.pg_index
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT i.*
      FROM pg_index i
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
     WHERE i.indrelid = relation AND i.indisvalid AND i.indpred IS NULL AND a.attname = col;
END;
COMMENT ON FUNCTION segment._indexes_led_by(regclass, name) IS
    'The valid, non-partial indexes of a table whose first key column is the given one.';

-- Whether a column alone has a unique index that is checked at once (a
-- primary key or UNIQUE, not deferrable): then no two rows share a value.
CREATE FUNCTION segment._has_unique_index(relation regclass, col name)
RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT EXISTS (SELECT 1 FROM segment._indexes_led_by(relation, col) i
                    WHERE i.indisunique AND i.indimmediate AND i.indnkeyatts = 1);
END;
COMMENT ON FUNCTION segment._has_unique_index(regclass, name) IS
    'Whether a column has a unique, immediately checked index of its own.';

-- Maintenance reads the rows of the customers (or orders) a statement
-- touched by this column: without an index that starts with it, every
-- maintained insert scans the whole table.  Said, not refused: a small
-- table, or one about to be indexed, is fine.
CREATE FUNCTION segment._warn_unindexed(relation regclass, col name, what text)
RETURNS void
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM segment._indexes_led_by(relation, col)) THEN
        RETURN;
    END IF;
    RAISE WARNING 'no index of % starts with its % column "%"', relation, what, col
        USING DETAIL = format('The maintenance triggers read the rows of each change''s %ss by this column: without an index, every maintained insert scans the whole table.', what),
              HINT = format('CREATE INDEX ON %s (%I);', relation, col);
END
$$;
COMMENT ON FUNCTION segment._warn_unindexed(regclass, name, text) IS
    'Warns when no valid, non-partial index starts with the column maintenance reads a table by.';

-- Records a source, installs its maintenance triggers, then re-binds every
-- segment so that a change that breaks one is refused here rather than at
-- its next refresh, and recomputes the segments that read that kind of data.
CREATE FUNCTION segment._track(src segment.sources)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    seg record;
    previous regclass;
    readers integer[];
BEGIN
    SELECT relation INTO previous FROM segment.sources WHERE kind = src.kind;
    IF previous IS NOT NULL AND previous <> src.relation
       AND NOT EXISTS (SELECT 1 FROM segment.sources
                        WHERE relation = previous AND kind <> src.kind) THEN
        PERFORM segment._drop_triggers(previous);
    END IF;
    INSERT INTO segment.sources VALUES (src.*)
    ON CONFLICT (kind) DO UPDATE
       SET relation = excluded.relation, key_column = excluded.key_column,
           customer_column = excluded.customer_column, time_column = excluded.time_column,
           amount_column = excluded.amount_column, order_column = excluded.order_column,
           product_column = excluded.product_column, quantity_column = excluded.quantity_column,
           price_column = excluded.price_column, kind_column = excluded.kind_column,
           tracked_at = excluded.tracked_at;
    PERFORM segment._install_triggers(src.relation, src.kind);
    FOR seg IN SELECT name, rule FROM segment.segments ORDER BY id LOOP
        PERFORM segment._rule_deps(seg.name, seg.rule::text);
    END LOOP;
    -- the segments that read this kind of data now read another table
    IF previous IS NOT NULL THEN
        readers := segment._with_dependants(ARRAY(SELECT s.id FROM segment.segments s
                                                   WHERE src.kind = ANY (s.sources)));
        IF cardinality(readers) > 0 THEN
            PERFORM 1 FROM segment.segments s WHERE s.id = ANY (readers) ORDER BY s.id FOR UPDATE;
            PERFORM segment._apply(readers, segment._clock(readers), 'definition');
        END IF;
    END IF;
END
$$;
COMMENT ON FUNCTION segment._track(segment.sources) IS
    'Records where a kind of data lives and checks that every segment still binds.';

CREATE FUNCTION segment.track_customers(relation regclass, id_column name DEFAULT 'id')
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    primary_key name;
BEGIN
    PERFORM segment._check_column(relation, id_column, 'id', 'key');
    -- one customer per key: membership and every lookup are by key
    IF NOT segment._has_unique_index(relation, id_column) THEN
        SELECT a.attname INTO primary_key
          FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
         WHERE i.indrelid = relation AND i.indisprimary AND i.indnkeyatts = 1;
        RAISE EXCEPTION 'column "%" of % does not identify one customer', id_column, relation
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'A customer key needs a primary key or a unique constraint of its own, checked at once (not deferrable).',
                  HINT = CASE WHEN primary_key IS NOT NULL
                              THEN format('The primary key of %s is %I: track_customers(%L, id_column => %L).',
                                          relation, primary_key, relation::text, primary_key)
                              ELSE format('Add one: ALTER TABLE %s ADD PRIMARY KEY (%I);', relation, id_column) END;
    END IF;
    PERFORM segment._track(ROW('customers', relation, id_column, NULL, NULL, NULL, NULL,
                               NULL, NULL, NULL, NULL, now())::segment.sources);
END
$$;
COMMENT ON FUNCTION segment.track_customers(regclass, name) IS
    'Tells segment which table holds the customers, and its key column.';

CREATE FUNCTION segment.track_orders(relation regclass, customer_column name DEFAULT 'customer_id',
                                     amount_column name DEFAULT 'total',
                                     time_column name DEFAULT 'created_at',
                                     id_column name DEFAULT 'id')
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM segment._check_column(relation, id_column, 'id', 'key');
    PERFORM segment._check_column(relation, customer_column, 'customer', 'key');
    PERFORM segment._warn_unindexed(relation, customer_column, 'customer');
    PERFORM segment._check_column(relation, amount_column, 'amount', 'number');
    PERFORM segment._check_column(relation, time_column, 'time', 'time');
    PERFORM segment._track(ROW('orders', relation, id_column, customer_column, time_column,
                               amount_column, NULL, NULL, NULL, NULL, NULL, now())::segment.sources);
END
$$;
COMMENT ON FUNCTION segment.track_orders(regclass, name, name, name, name) IS
    'Tells segment which table holds the orders: who placed them, when, for how much.';

CREATE FUNCTION segment.track_order_items(relation regclass, order_column name DEFAULT 'order_id',
                                          product_column name DEFAULT 'product_id',
                                          quantity_column name DEFAULT NULL,
                                          price_column name DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM segment._check_column(relation, order_column, 'order', 'key');
    PERFORM segment._warn_unindexed(relation, order_column, 'order');
    IF product_column IS NOT NULL THEN
        PERFORM segment._check_column(relation, product_column, 'product', 'key');
    END IF;
    IF quantity_column IS NOT NULL THEN
        PERFORM segment._check_column(relation, quantity_column, 'quantity', 'number');
    END IF;
    IF price_column IS NOT NULL THEN
        PERFORM segment._check_column(relation, price_column, 'price', 'number');
    END IF;
    PERFORM segment._track(ROW('order_items', relation, NULL, NULL, NULL, NULL, order_column,
                               product_column, quantity_column, price_column, NULL, now())::segment.sources);
END
$$;
COMMENT ON FUNCTION segment.track_order_items(regclass, name, name, name, name) IS
    'Tells segment which table holds order lines; item filters may also use product columns.';

CREATE FUNCTION segment.track_products(relation regclass, id_column name DEFAULT 'id')
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM segment._check_column(relation, id_column, 'id', 'key');
    PERFORM segment._track(ROW('products', relation, id_column, NULL, NULL, NULL, NULL,
                               NULL, NULL, NULL, NULL, now())::segment.sources);
END
$$;
COMMENT ON FUNCTION segment.track_products(regclass, name) IS
    'Tells segment which table holds products, so item filters can use category, brand and the like.';

CREATE FUNCTION segment.track_events(relation regclass, customer_column name DEFAULT 'customer_id',
                                     kind_column name DEFAULT 'kind',
                                     time_column name DEFAULT 'created_at')
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM segment._check_column(relation, customer_column, 'customer', 'key');
    PERFORM segment._warn_unindexed(relation, customer_column, 'customer');
    PERFORM segment._check_column(relation, kind_column, 'kind', 'text');
    PERFORM segment._check_column(relation, time_column, 'time', 'time');
    PERFORM segment._track(ROW('events', relation, NULL, customer_column, time_column, NULL,
                               NULL, NULL, NULL, NULL, kind_column, now())::segment.sources);
END
$$;
COMMENT ON FUNCTION segment.track_events(regclass, name, name, name) IS
    'Tells segment which table holds events (e-mail opens and clicks, page views, sessions).';
