
-- ---------------------------------------------------------------------------
-- Catalog: where the store keeps its data, the segments, their members and
-- every entry and exit.  Tables are named, never OIDs (regclass dumps as a
-- name), so pg_dump and pg_upgrade need no manual step.
-- ---------------------------------------------------------------------------

CREATE TABLE segment.sources (
    kind            text PRIMARY KEY
                    CHECK (kind IN ('customers', 'orders', 'order_items', 'products', 'events')),
    relation        regclass NOT NULL,
    key_column      name,           -- customers, orders, products: their key
    customer_column name,           -- orders, events
    time_column     name,           -- orders, events
    amount_column   name,           -- orders
    order_column    name,           -- order_items -> orders
    product_column  name,           -- order_items -> products
    quantity_column name,           -- order_items (optional)
    price_column    name,           -- order_items (optional)
    kind_column     name,           -- events
    tracked_at      timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE segment.sources IS
    'The store''s tables that segment reads, and which column plays which part; set by the track_* functions.';

CREATE TABLE segment.segments (
    id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL UNIQUE
                    CHECK (name <> '' AND pg_catalog.length(name) <= 100 AND name !~ '[[:cntrl:]]'),
    rule            segment.rule NOT NULL,
    description     text,
    tag             text CHECK (tag <> ''),
    mode            text NOT NULL DEFAULT 'incremental'
                    CHECK (mode IN ('incremental', 'scheduled', 'manual')),
    depends_on      text[] NOT NULL DEFAULT '{}',   -- segments named by in_segment()
    tags_tested     text[] NOT NULL DEFAULT '{}',   -- tags named by tagged()
    groups_used     text[] NOT NULL DEFAULT '{}',   -- groups named by in_group()
    sources         text[] NOT NULL DEFAULT '{}',   -- source kinds the rule reads
    uses_clock      boolean NOT NULL DEFAULT false, -- membership can change with time alone
    uses_points     boolean NOT NULL DEFAULT false,
    defined_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    refreshed_at    timestamptz,                    -- wall clock of the last evaluation
    as_of           timestamptz,                    -- the time that evaluation saw
    refresh_ms      double precision,
    last_error      text,                           -- the clock's last failure, until it succeeds
    last_error_at   timestamptz
);
COMMENT ON TABLE segment.segments IS
    'Segment definitions: the rule as canonical text, with the names it depends on.';

-- Stored membership.  Customer keys of any type are kept in their text form.
-- Keyed by customer first: maintenance, is_member() and segments_of() look
-- up a few customers at a time; whole segments are read by segment_id.
-- segment_id has no foreign key: only the engine writes here, holding a lock
-- on each segment it writes, and drop_segment() deletes a segment's rows
-- itself.  The key's check per row cost more than a third of writing a
-- segment's members (into empty membership at scale 0.1: 8.2 s, 5.5 s
-- without); ids are an identity, never reused.
CREATE TABLE segment.membership (
    segment_id      integer NOT NULL,
    customer_id     text NOT NULL,
    since           timestamptz NOT NULL,
    PRIMARY KEY (customer_id, segment_id)
);
CREATE INDEX membership_segment_idx ON segment.membership (segment_id);
COMMENT ON TABLE segment.membership IS 'Current members of each segment; read it through segment.members.';

-- Every entry and exit, in the transaction that caused it.
CREATE TABLE segment.changes (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    segment         text NOT NULL,
    customer_id     text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('enter', 'exit')),
    at              timestamptz NOT NULL,           -- the as_of of the evaluation
    cause           text NOT NULL CHECK (cause IN ('data', 'clock', 'definition', 'manual')),
    logged_at       timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX changes_segment_customer_idx ON segment.changes (segment, customer_id, id);
COMMENT ON TABLE segment.changes IS 'The change feed: one row per entry into or exit from a segment.';

-- Static groups, filled by hand.
CREATE TABLE segment.groups (
    name            text PRIMARY KEY CHECK (name <> ''),
    description     text,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE TABLE segment.group_members (
    group_name      text NOT NULL REFERENCES segment.groups ON DELETE CASCADE ON UPDATE CASCADE,
    customer_id     text NOT NULL,
    added_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (group_name, customer_id)
);
CREATE INDEX group_members_customer_idx ON segment.group_members (customer_id);

-- Tags set by hand.  Tags kept by segments are not stored twice: they are
-- the segments' membership (see segment.customer_tags).
CREATE TABLE segment.tags (
    customer_id     text NOT NULL,
    tag             text NOT NULL CHECK (tag <> ''),
    tagged_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (customer_id, tag)
);
CREATE INDEX tags_tag_idx ON segment.tags (tag);

-- Points: a ledger; a customer's score is the sum of live entries.
CREATE TABLE segment.points (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id     text NOT NULL,
    points          integer NOT NULL,
    reason          text,
    at              timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at      timestamptz CHECK (expires_at > at)
);
CREATE INDEX points_customer_idx ON segment.points (customer_id);

-- The catalog's version.  Backends keep what they derive from sources,
-- segments, groups and RFM cut points (compiled rules, kept plans) and check
-- this one row before using it; every change to those tables moves it on.
-- The numbers come from a sequence, so that no version is seen twice even
-- when a change is rolled back.  Refreshes only record their time on a
-- segment, which moves nothing.
CREATE SEQUENCE segment.catalog_version_seq;
CREATE TABLE segment.catalog_version (
    version         bigint NOT NULL
);
CREATE UNIQUE INDEX catalog_version_one_row ON segment.catalog_version ((true));
INSERT INTO segment.catalog_version VALUES (pg_catalog.nextval('segment.catalog_version_seq'));
COMMENT ON TABLE segment.catalog_version IS
    'One row: the version of the catalog (sources, segments, groups, RFM cut points) that backends cache.';

CREATE FUNCTION segment._catalog_changed()
RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE segment.catalog_version SET version = nextval('segment.catalog_version_seq');
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION segment._catalog_changed() IS
    'Statement trigger: moves the catalog version on, so that backends reload what they cached.';

CREATE TRIGGER sources_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON segment.sources
    FOR EACH STATEMENT EXECUTE FUNCTION segment._catalog_changed();
CREATE TRIGGER segments_changed
    AFTER INSERT OR DELETE OR TRUNCATE
          OR UPDATE OF name, rule, tag, mode, depends_on, tags_tested, groups_used, sources
    ON segment.segments FOR EACH STATEMENT EXECUTE FUNCTION segment._catalog_changed();
CREATE TRIGGER groups_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON segment.groups
    FOR EACH STATEMENT EXECUTE FUNCTION segment._catalog_changed();

SELECT pg_catalog.pg_extension_config_dump('segment.sources', '');
SELECT pg_catalog.pg_extension_config_dump('segment.segments', '');
SELECT pg_catalog.pg_extension_config_dump('segment.membership', '');
SELECT pg_catalog.pg_extension_config_dump('segment.changes', '');
SELECT pg_catalog.pg_extension_config_dump('segment.groups', '');
SELECT pg_catalog.pg_extension_config_dump('segment.group_members', '');
SELECT pg_catalog.pg_extension_config_dump('segment.tags', '');
SELECT pg_catalog.pg_extension_config_dump('segment.points', '');
SELECT pg_catalog.pg_extension_config_dump('segment.segments_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('segment.changes_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('segment.points_id_seq', '');
