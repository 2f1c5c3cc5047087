
-- ---------------------------------------------------------------------------
-- Least privilege.  New schemas give PUBLIC nothing, and on top of that every
-- function that changes segments, membership, tags, groups, points or
-- scores, or that reads the store's data, is revoked from PUBLIC: an
-- administrator grants it to the roles that need it (README, "Roles").  What
-- stays executable by anyone with USAGE on the schema: the rule and rfm
-- types' own functions and operators, and the membership lookups.
-- ---------------------------------------------------------------------------

REVOKE ALL ON ALL TABLES IN SCHEMA segment FROM PUBLIC;

DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure
               FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = 'segment'::regnamespace
                AND NOT (p.proname IN ('is_member', 'segments_of', 'distance_km', 'rfm')
                         OR (p.proname ~ '^(rule|rfm)_'
                             AND p.proname NOT IN ('rfm_configure', 'rfm_refresh', 'rfm_rescore')))
    LOOP
        EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END
$$;
