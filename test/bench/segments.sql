-- The store as the demo sets it up (tracked tables, a group, tags), and the
-- 16 cases of the rule language as segments, evaluated at the data's "now".
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET timezone = 'UTC';
DROP EXTENSION IF EXISTS segment CASCADE;
CREATE EXTENSION segment;

\i demo/track_store.sql
SELECT segment.create_group('employees');
SELECT count(segment.add_to_group('employees', id)) FROM shop.customers WHERE id % 211 = 0;
SELECT count(segment.tag(id, 'vip')) FROM shop.customers WHERE id % 97 = 0;

\i demo/cases.sql
SELECT name, segment.define(name, rule, description => description, as_of => '2026-11-01 00:00:00+00') AS members
  FROM cases ORDER BY n, name;
