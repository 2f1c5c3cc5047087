
-- ---------------------------------------------------------------------------
-- The rule type.  A value is a rule's canonical text: parsed and checked on
-- the way in, so two spellings of one rule are one value, and a dump carries
-- readable text.  The language is described in doc/rule-language.md.
-- ---------------------------------------------------------------------------

CREATE TYPE segment.rule;

CREATE FUNCTION segment.rule_in(cstring) RETURNS segment.rule
    AS 'MODULE_PATHNAME', 'rule_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rule_in(cstring) IS
    'Input of segment.rule: parses and checks a rule and stores its canonical text.';

CREATE FUNCTION segment.rule_out(segment.rule) RETURNS cstring
    AS 'MODULE_PATHNAME', 'rule_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rule_out(segment.rule) IS
    'Output of segment.rule: the canonical text.';

CREATE FUNCTION segment.rule_recv(internal) RETURNS segment.rule
    AS 'MODULE_PATHNAME', 'rule_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rule_recv(internal) IS
    'Binary input of segment.rule: a version byte (1), then the rule text, checked as on text input.';

CREATE FUNCTION segment.rule_send(segment.rule) RETURNS bytea
    AS 'MODULE_PATHNAME', 'rule_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rule_send(segment.rule) IS
    'Binary output of segment.rule: a version byte (1), then the canonical text.';

CREATE TYPE segment.rule (
    INPUT = segment.rule_in,
    OUTPUT = segment.rule_out,
    RECEIVE = segment.rule_recv,
    SEND = segment.rule_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended,
    ALIGNMENT = int4
);
COMMENT ON TYPE segment.rule IS
    'A segment rule, stored as its canonical text; see doc/rule-language.md.';

-- Comparison: bytewise on the canonical text, so equal means the same rule.

CREATE FUNCTION segment.rule_eq(segment.rule, segment.rule) RETURNS boolean
    AS 'MODULE_PATHNAME', 'rule_eq'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rule_eq(segment.rule, segment.rule) IS
    'Whether two rules are the same (their canonical texts are equal).';

CREATE FUNCTION segment.rule_ne(segment.rule, segment.rule) RETURNS boolean
    AS 'MODULE_PATHNAME', 'rule_ne'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rule_ne(segment.rule, segment.rule) IS
    'Whether two rules differ.';

CREATE FUNCTION segment.rule_lt(segment.rule, segment.rule) RETURNS boolean
    AS 'MODULE_PATHNAME', 'rule_lt'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rule_lt(segment.rule, segment.rule) IS
    'Whether the first rule sorts before the second (bytewise on the canonical text).';

CREATE FUNCTION segment.rule_le(segment.rule, segment.rule) RETURNS boolean
    AS 'MODULE_PATHNAME', 'rule_le'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rule_le(segment.rule, segment.rule) IS
    'Whether the first rule sorts before the second or equals it.';

CREATE FUNCTION segment.rule_gt(segment.rule, segment.rule) RETURNS boolean
    AS 'MODULE_PATHNAME', 'rule_gt'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rule_gt(segment.rule, segment.rule) IS
    'Whether the first rule sorts after the second (bytewise on the canonical text).';

CREATE FUNCTION segment.rule_ge(segment.rule, segment.rule) RETURNS boolean
    AS 'MODULE_PATHNAME', 'rule_ge'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rule_ge(segment.rule, segment.rule) IS
    'Whether the first rule sorts after the second or equals it.';

CREATE FUNCTION segment.rule_cmp(segment.rule, segment.rule) RETURNS integer
    AS 'MODULE_PATHNAME', 'rule_cmp'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rule_cmp(segment.rule, segment.rule) IS
    'Btree support: -1, 0 or 1 as the first rule sorts before, with or after the second.';

CREATE FUNCTION segment.rule_hash(segment.rule) RETURNS integer
    AS 'MODULE_PATHNAME', 'rule_hash'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rule_hash(segment.rule) IS
    'Hash support: a hash of the canonical text.';

CREATE FUNCTION segment.rule_hash_extended(segment.rule, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'rule_hash_extended'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rule_hash_extended(segment.rule, bigint) IS
    'Hash support: a 64-bit hash of the canonical text, with a seed.';

CREATE OPERATOR segment.= (
    LEFTARG = segment.rule, RIGHTARG = segment.rule, FUNCTION = segment.rule_eq,
    COMMUTATOR = OPERATOR(segment.=), NEGATOR = OPERATOR(segment.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR segment.<> (
    LEFTARG = segment.rule, RIGHTARG = segment.rule, FUNCTION = segment.rule_ne,
    COMMUTATOR = OPERATOR(segment.<>), NEGATOR = OPERATOR(segment.=),
    RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR segment.< (
    LEFTARG = segment.rule, RIGHTARG = segment.rule, FUNCTION = segment.rule_lt,
    COMMUTATOR = OPERATOR(segment.>), NEGATOR = OPERATOR(segment.>=),
    RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR segment.<= (
    LEFTARG = segment.rule, RIGHTARG = segment.rule, FUNCTION = segment.rule_le,
    COMMUTATOR = OPERATOR(segment.>=), NEGATOR = OPERATOR(segment.>),
    RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR segment.> (
    LEFTARG = segment.rule, RIGHTARG = segment.rule, FUNCTION = segment.rule_gt,
    COMMUTATOR = OPERATOR(segment.<), NEGATOR = OPERATOR(segment.<=),
    RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);
CREATE OPERATOR segment.>= (
    LEFTARG = segment.rule, RIGHTARG = segment.rule, FUNCTION = segment.rule_ge,
    COMMUTATOR = OPERATOR(segment.<=), NEGATOR = OPERATOR(segment.<),
    RESTRICT = scalargesel, JOIN = scalargejoinsel
);

CREATE OPERATOR CLASS segment.rule_ops
    DEFAULT FOR TYPE segment.rule USING btree AS
        OPERATOR 1 segment.< ,
        OPERATOR 2 segment.<= ,
        OPERATOR 3 segment.= ,
        OPERATOR 4 segment.>= ,
        OPERATOR 5 segment.> ,
        FUNCTION 1 segment.rule_cmp(segment.rule, segment.rule);

CREATE OPERATOR CLASS segment.rule_hash_ops
    DEFAULT FOR TYPE segment.rule USING hash AS
        OPERATOR 1 segment.= ,
        FUNCTION 1 segment.rule_hash(segment.rule),
        FUNCTION 2 segment.rule_hash_extended(segment.rule, bigint);

-- The rule as a JSON tree, for programs that build or inspect rules.

CREATE FUNCTION segment.rule_to_json(segment.rule) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rule_to_json'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rule_to_json(segment.rule) IS
    'The rule as a JSON tree, one object per node (doc/rule-language.md, "JSON form").';

CREATE FUNCTION segment.rule_from_json(jsonb) RETURNS segment.rule
    AS 'MODULE_PATHNAME', 'rule_from_json'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION segment.rule_from_json(jsonb) IS
    'A rule from its JSON tree, checked as rule text is; errors name the JSON path.';
