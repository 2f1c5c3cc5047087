/*
 * ast.h: the parsed form of a segment rule.
 *
 * The rule type stores only canonical text (see rule_type.c); the tree below
 * is rebuilt from it whenever something needs to walk a rule (binding,
 * compiling, JSON).  Parsing is cheap and the text is what a dump carries.
 */
#ifndef SEGMENT_RULE_AST_H
#define SEGMENT_RULE_AST_H

#include "postgres.h"
#include "nodes/pg_list.h"

/* Limits, documented in the README. */
#define RULE_MAX_LENGTH		65536	/* bytes of rule text */
#define RULE_MAX_DEPTH		64		/* nesting of parentheses, NOT, calls */

typedef enum RuleNodeKind
{
	/* boolean structure */
	RN_AND,						/* args: two or more, none of them RN_AND */
	RN_OR,						/* args: two or more, none of them RN_OR */
	RN_NOT,						/* left */
	/* predicates */
	RN_CMP,						/* left op right */
	RN_IN,						/* left [NOT] IN (args: literals) */
	RN_BETWEEN,					/* left [NOT] BETWEEN low AND high */
	RN_LIKE,					/* left [NOT] LIKE|ILIKE right (string) */
	RN_ISNULL,					/* left IS [NOT] NULL */
	/* operands; any operand may also stand alone as a boolean predicate */
	RN_NUMBER,					/* str: canonical decimal text */
	RN_STRING,					/* str: the value, unescaped */
	RN_DATE,					/* str: 'YYYY-MM-DD', a valid date */
	RN_BOOL,					/* bval */
	RN_NAME,					/* str, and field for dotted names (rfm.r) */
	RN_CALL,					/* str: verb, lower case; args */
	/* only as an argument of a behaviour verb */
	RN_WINDOW					/* wkind, n1, n2, unit, str/field as dates */
} RuleNodeKind;

typedef enum RuleCmpOp
{
	CMP_EQ,						/* = */
	CMP_NE,						/* <> (and != on input) */
	CMP_LT,
	CMP_LE,
	CMP_GT,
	CMP_GE
} RuleCmpOp;

typedef enum RuleWindowKind
{
	WIN_LAST,					/* LAST n1 unit */
	WIN_AGO,					/* BETWEEN n1 AND n2 unit AGO, n1 > n2 >= 0 */
	WIN_DATES					/* BETWEEN date(str) AND date(field), str <= field */
} RuleWindowKind;

typedef enum RuleUnit
{
	UNIT_DAY,
	UNIT_WEEK,
	UNIT_MONTH,
	UNIT_YEAR
} RuleUnit;

typedef struct RuleNode
{
	RuleNodeKind kind;
	int			location;		/* byte offset in the rule text, -1 if none */

	struct RuleNode *left;		/* NOT, CMP, IN, BETWEEN, LIKE, ISNULL */
	struct RuleNode *right;		/* CMP, LIKE; BETWEEN: low */
	struct RuleNode *third;		/* BETWEEN: high */
	List	   *args;			/* AND, OR, IN, CALL: RuleNode pointers */

	RuleCmpOp	op;				/* CMP */
	bool		negated;		/* IN, BETWEEN, LIKE, ISNULL */
	bool		ilike;			/* LIKE */
	bool		bval;			/* BOOL */

	char	   *str;			/* literal, name, verb, window start date */
	char	   *field;			/* dotted name's second part, window end date */

	RuleWindowKind wkind;		/* WINDOW */
	int64		n1;
	int64		n2;
	RuleUnit	unit;
} RuleNode;

/*
 * The verbs the language knows.  The parser checks verb names and argument
 * shapes (that is syntax); column names are bound later, in bind.c.
 */
typedef enum RuleVerbKind
{
	VERB_ORDERS,				/* order behaviour: window + order filters */
	VERB_ITEMS,					/* item behaviour: window + item/product filters */
	VERB_EVENTS,				/* event behaviour: kinds, window, filters */
	VERB_SCALAR,				/* age(col), hour(col), within_km(...) */
	VERB_MEMBERSHIP				/* tagged, in_group, in_segment: one string */
} RuleVerbKind;

typedef struct RuleVerb
{
	const char *name;
	RuleVerbKind kind;
	bool		bare;			/* may be written without parentheses */
} RuleVerb;

extern const RuleVerb rule_verbs[];
extern const RuleVerb *rule_find_verb(const char *name);

/* parse.c: text to tree; ereports ERRCODE_SYNTAX_ERROR with position + hint */
extern RuleNode *rule_parse(const char *text, int len);

/* deparse.c: tree to canonical text (palloc'd) */
extern char *rule_deparse(const RuleNode *node);

/* json.c: tree to JSON text, and jsonb to tree */
extern char *rule_to_json_text(const RuleNode *node);
struct Jsonb;
extern RuleNode *rule_from_jsonb(struct Jsonb *jb);

/* errors at a position of a rule, shared by the parser and the binder */
extern char *rule_error_context(const char *text, int location);

/* shared helpers */
extern const char *rule_cmp_op_name(RuleCmpOp op);
extern const char *rule_unit_name(RuleUnit unit, bool plural);

/*
 * Added with the rule type: the checks the parser and rule_from_json() share,
 * so that both accept exactly the same trees.  A check that fails fills in a
 * RuleProblem; the caller reports it at a position (parser) or a JSON path.
 */
typedef struct RuleProblem
{
	const RuleNode *node;		/* the node at fault */
	int			sqlerrcode;
	char	   *message;		/* errmsg text, lower case, no period */
	char	   *hint;			/* errhint sentence, or NULL */
} RuleProblem;

/* verbs.c */
extern bool rule_check_call(RuleNode *call, const RuleVerb *verb, RuleProblem *problem);
extern bool rule_check_window(const RuleNode *window, RuleProblem *problem);
extern const char *rule_nearest_verb(const char *name);
extern char *rule_unknown_verb_hint(const char *name);

/* lexer.c: literals, as the parser reads them */
extern char *rule_normalize_number(const char *text, int len);
extern bool rule_check_date(const char *text, int len, char **hint);
extern bool rule_is_keyword(const char *word);

/* deparse.c: a name as the canonical text writes it (quoted if needed) */
extern char *rule_quote_name(const char *name);

#endif							/* SEGMENT_RULE_AST_H */
