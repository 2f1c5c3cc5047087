/*
 * deparse.c: a rule tree to its canonical text.
 *
 * The canonical text is what the rule type stores, so two spellings of one
 * rule must print the same and the text must parse back to the same tree:
 * keywords upper case, names lower case (quoted only when they must be),
 * single spaces, the fewest parentheses that keep the structure.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "rule/ast.h"

static const char *const cmp_names[] = {"=", "<>", "<", "<=", ">", ">="};
static const char *const unit_names[][2] = {
	{"day", "days"},
	{"week", "weeks"},
	{"month", "months"},
	{"year", "years"}
};
static const char *const unit_keywords[][2] = {
	{"DAY", "DAYS"},
	{"WEEK", "WEEKS"},
	{"MONTH", "MONTHS"},
	{"YEAR", "YEARS"}
};

const char *
rule_cmp_op_name(RuleCmpOp op)
{
	Assert(op >= CMP_EQ && op <= CMP_GE);
	return cmp_names[op];
}

/* Lower case, as SQL interval input and the JSON tree take it. */
const char *
rule_unit_name(RuleUnit unit, bool plural)
{
	Assert(unit >= UNIT_DAY && unit <= UNIT_YEAR);
	return unit_names[unit][plural ? 1 : 0];
}

/*
 * A name as written in a rule: bare when it reads back as itself (a plain
 * lower-case identifier that is no keyword), otherwise in double quotes.
 */
char *
rule_quote_name(const char *name)
{
	bool		plain = (name[0] >= 'a' && name[0] <= 'z') || name[0] == '_';
	StringInfoData buf;

	for (const char *p = name; *p && plain; p++)
		plain = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
	if (plain && !rule_is_keyword(name))
		return pstrdup(name);

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '"');
	for (const char *p = name; *p; p++)
	{
		if (*p == '"')
			appendStringInfoChar(&buf, '"');
		appendStringInfoChar(&buf, *p);
	}
	appendStringInfoChar(&buf, '"');
	return buf.data;
}

static void
append_string_literal(StringInfo buf, const char *str)
{
	appendStringInfoChar(buf, '\'');
	for (const char *p = str; *p; p++)
	{
		if (*p == '\'')
			appendStringInfoChar(buf, '\'');
		appendStringInfoChar(buf, *p);
	}
	appendStringInfoChar(buf, '\'');
}

static void deparse_node(StringInfo buf, const RuleNode *node);

/* A child of AND, OR or NOT, in parentheses when it binds looser. */
static void
deparse_child(StringInfo buf, const RuleNode *parent, const RuleNode *child)
{
	bool		parens;

	if (parent->kind == RN_NOT)
		parens = child->kind == RN_AND || child->kind == RN_OR;
	else
		parens = child->kind == RN_OR || child->kind == parent->kind;
	if (parens)
		appendStringInfoChar(buf, '(');
	deparse_node(buf, child);
	if (parens)
		appendStringInfoChar(buf, ')');
}

static void
deparse_list(StringInfo buf, List *items, const char *sep, const RuleNode *parent)
{
	ListCell   *lc;

	foreach(lc, items)
	{
		CHECK_FOR_INTERRUPTS();
		if (lc != list_head(items))
			appendStringInfoString(buf, sep);
		if (parent)
			deparse_child(buf, parent, lfirst(lc));
		else
			deparse_node(buf, lfirst(lc));
	}
}

static void
deparse_node(StringInfo buf, const RuleNode *node)
{
	check_stack_depth();

	switch (node->kind)
	{
		case RN_AND:
			deparse_list(buf, node->args, " AND ", node);
			break;
		case RN_OR:
			deparse_list(buf, node->args, " OR ", node);
			break;
		case RN_NOT:
			appendStringInfoString(buf, "NOT ");
			deparse_child(buf, node, node->left);
			break;
		case RN_CMP:
			deparse_node(buf, node->left);
			appendStringInfo(buf, " %s ", rule_cmp_op_name(node->op));
			deparse_node(buf, node->right);
			break;
		case RN_IN:
			deparse_node(buf, node->left);
			appendStringInfoString(buf, node->negated ? " NOT IN (" : " IN (");
			deparse_list(buf, node->args, ", ", NULL);
			appendStringInfoChar(buf, ')');
			break;
		case RN_BETWEEN:
			deparse_node(buf, node->left);
			appendStringInfoString(buf, node->negated ? " NOT BETWEEN " : " BETWEEN ");
			deparse_node(buf, node->right);
			appendStringInfoString(buf, " AND ");
			deparse_node(buf, node->third);
			break;
		case RN_LIKE:
			deparse_node(buf, node->left);
			appendStringInfo(buf, " %s%s ", node->negated ? "NOT " : "",
							 node->ilike ? "ILIKE" : "LIKE");
			deparse_node(buf, node->right);
			break;
		case RN_ISNULL:
			deparse_node(buf, node->left);
			appendStringInfoString(buf, node->negated ? " IS NOT NULL" : " IS NULL");
			break;
		case RN_NUMBER:
		case RN_DATE:
			appendStringInfoString(buf, node->str);
			break;
		case RN_STRING:
			append_string_literal(buf, node->str);
			break;
		case RN_BOOL:
			appendStringInfoString(buf, node->bval ? "TRUE" : "FALSE");
			break;
		case RN_NAME:
			appendStringInfoString(buf, rule_quote_name(node->str));
			if (node->field)
			{
				appendStringInfoChar(buf, '.');
				appendStringInfoString(buf, rule_quote_name(node->field));
			}
			break;
		case RN_CALL:
			appendStringInfoString(buf, rule_quote_name(node->str));
			appendStringInfoChar(buf, '(');
			deparse_list(buf, node->args, ", ", NULL);
			appendStringInfoChar(buf, ')');
			break;
		case RN_WINDOW:
			switch (node->wkind)
			{
				case WIN_LAST:
					appendStringInfo(buf, "LAST " INT64_FORMAT " %s", node->n1,
									 unit_keywords[node->unit][node->n1 == 1 ? 0 : 1]);
					break;
				case WIN_AGO:
					/* the unit goes with both numbers, so it is plural */
					appendStringInfo(buf, "BETWEEN " INT64_FORMAT " AND " INT64_FORMAT " %s AGO",
									 node->n1, node->n2, unit_keywords[node->unit][1]);
					break;
				case WIN_DATES:
					appendStringInfo(buf, "BETWEEN %s AND %s", node->str, node->field);
					break;
			}
			break;
	}
}

char *
rule_deparse(const RuleNode *node)
{
	StringInfoData buf;

	initStringInfo(&buf);
	deparse_node(&buf, node);
	return buf.data;
}
