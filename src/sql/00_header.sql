-- segment: customer segmentation inside PostgreSQL.
-- This file is built from the parts in src/sql/; edit those.
\echo Use "CREATE EXTENSION segment" to load this file. \quit
