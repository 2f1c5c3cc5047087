/*
 * rule_type.h: the segment.rule SQL type, as other C code sees it.
 *
 * A rule datum is a varlena holding the rule's canonical text (no NUL), the
 * same layout as text; it is made only by rule_in, rule_recv and
 * rule_from_json, which all parse and deparse, so it is always canonical.
 */
#ifndef SEGMENT_RULE_TYPE_H
#define SEGMENT_RULE_TYPE_H

#include "postgres.h"
#include "fmgr.h"
#include "rule/ast.h"

/* the first byte of the binary form (rule_send, rule_recv) */
#define RULE_BINARY_VERSION 1

/* The canonical text of a segment.rule datum, palloc'd and NUL-terminated. */
extern char *rule_datum_text(Datum rule);

/* The tree of a segment.rule datum, palloc'd in the current memory context. */
extern RuleNode *rule_parse_datum(Datum rule);

/* A segment.rule datum for rule text in any spelling; errors as rule_in. */
extern Datum rule_datum_from_text(const char *text);

#endif							/* SEGMENT_RULE_TYPE_H */
