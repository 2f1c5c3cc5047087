
-- ---------------------------------------------------------------------------
-- Static groups, tags and points, set by hand (or by an app).  Each change
-- re-evaluates, for that one customer, the segments whose rules read it.
-- ---------------------------------------------------------------------------

-- Re-evaluates the incremental segments that match `reads` (and those that
-- read them) for one customer.
CREATE FUNCTION segment._revisit(customer text, reads text, what text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids integer[];
BEGIN
    ids := ARRAY(SELECT s.id FROM segment.segments s
                  WHERE s.mode = 'incremental'
                    AND CASE reads
                        WHEN 'group' THEN what = ANY (s.groups_used)
                        WHEN 'tag' THEN what = ANY (s.tags_tested)
                        WHEN 'points' THEN s.uses_points END);
    IF cardinality(ids) > 0 THEN
        ids := segment._with_dependants(ids, maintained_only => true);
        -- as the triggers do: wait for a whole-segment writer (define,
        -- refresh, tick), then for others maintaining this customer
        PERFORM 1 FROM segment.segments s WHERE s.id = ANY (ids) ORDER BY s.id FOR SHARE;
        PERFORM segment._take_turns(ARRAY[customer]);
        PERFORM segment._apply(ids, segment._clock(ids), 'manual', ARRAY[customer]);
    END IF;
END
$$;
COMMENT ON FUNCTION segment._revisit(text, text, text) IS
    'Brings the segments that read a group, a tag or points up to date for one customer.';

CREATE FUNCTION segment.create_group(name text, description text DEFAULT NULL)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO segment.groups (name, description) VALUES (create_group.name, create_group.description);
END;
COMMENT ON FUNCTION segment.create_group(text, text) IS 'Creates a static group, filled by hand.';

CREATE FUNCTION segment.drop_group(name text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    readers text;
BEGIN
    SELECT string_agg(format('%L', s.name), ', ' ORDER BY s.name) INTO readers
      FROM segment.segments s WHERE drop_group.name = ANY (s.groups_used);
    IF readers IS NOT NULL THEN
        RAISE EXCEPTION 'group "%" is read by segments', name
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = format('Segments that read it: %s.', readers),
                  HINT = 'Drop or redefine those first.';
    END IF;
    DELETE FROM segment.groups g WHERE g.name = drop_group.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'group "%" does not exist', name USING ERRCODE = 'undefined_object';
    END IF;
END
$$;
COMMENT ON FUNCTION segment.drop_group(text) IS 'Drops a static group that no segment reads.';

CREATE FUNCTION segment.add_to_group(group_name text, customer anyelement)
RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM 1 FROM segment.groups g WHERE g.name = group_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'group "%" does not exist', group_name
            USING ERRCODE = 'undefined_object',
                  HINT = format('Create it with segment.create_group(%L).', group_name);
    END IF;
    INSERT INTO segment.group_members (group_name, customer_id)
    VALUES (add_to_group.group_name, customer::text) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM segment._revisit(customer::text, 'group', group_name);
    RETURN true;
END
$$;
COMMENT ON FUNCTION segment.add_to_group(text, anyelement) IS
    'Adds a customer to a static group; returns false if already there.';

CREATE FUNCTION segment.remove_from_group(group_name text, customer anyelement)
RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM segment.group_members g
     WHERE g.group_name = remove_from_group.group_name AND g.customer_id = customer::text;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM segment._revisit(customer::text, 'group', group_name);
    RETURN true;
END
$$;
COMMENT ON FUNCTION segment.remove_from_group(text, anyelement) IS
    'Removes a customer from a static group; returns false if not there.';

CREATE FUNCTION segment.tag(customer anyelement, tag text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO segment.tags (customer_id, tag) VALUES (customer::text, tag.tag) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM segment._revisit(customer::text, 'tag', tag);
    RETURN true;
END
$$;
COMMENT ON FUNCTION segment.tag(anyelement, text) IS 'Tags a customer by hand; returns false if already tagged.';

CREATE FUNCTION segment.untag(customer anyelement, tag text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM segment.tags t WHERE t.customer_id = customer::text AND t.tag = untag.tag;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM segment._revisit(customer::text, 'tag', tag);
    RETURN true;
END
$$;
COMMENT ON FUNCTION segment.untag(anyelement, text) IS
    'Removes a hand-set tag; tags kept by segments follow their membership instead.';

-- All tags: set by hand, and kept by segments on their members.
CREATE VIEW segment.customer_tags AS
SELECT t.customer_id, t.tag, 'manual' AS source, t.tagged_at AS since
  FROM segment.tags t
UNION ALL
SELECT m.customer_id, s.tag, 'segment ' || s.name, m.since
  FROM segment.membership m JOIN segment.segments s ON s.id = m.segment_id
 WHERE s.tag IS NOT NULL;
COMMENT ON VIEW segment.customer_tags IS 'Every tag on every customer, with where it comes from.';

CREATE FUNCTION segment.add_points(customer anyelement, points integer, reason text DEFAULT NULL,
                                   expires_in interval DEFAULT NULL, at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    entry bigint;
BEGIN
    IF customer IS NULL OR points IS NULL OR at IS NULL THEN
        RAISE EXCEPTION 'a customer and a number of points are needed' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF expires_in <= interval '0' THEN
        RAISE EXCEPTION 'points must expire after they are given, not in %', expires_in
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO segment.points (customer_id, points, reason, at, expires_at)
    VALUES (customer::text, add_points.points, add_points.reason, add_points.at, add_points.at + expires_in)
    RETURNING id INTO entry;
    PERFORM segment._revisit(customer::text, 'points', NULL);
    RETURN entry;
END
$$;
COMMENT ON FUNCTION segment.add_points(anyelement, integer, text, interval, timestamptz) IS
    'Adds (or with a negative number, takes) points, given at a time (now by default); returns the ledger entry id.';

CREATE VIEW segment.scores AS
SELECT p.customer_id, sum(p.points) AS score
  FROM segment.points p
 WHERE p.at <= now() AND (p.expires_at IS NULL OR p.expires_at > now())
 GROUP BY p.customer_id;
COMMENT ON VIEW segment.scores IS 'Each customer''s live score: points not yet expired.';
