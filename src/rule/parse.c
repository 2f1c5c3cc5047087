/*
 * parse.c: rule text to tree, by recursive descent over the tokens.
 *
 *	 rule		:= or
 *	 or			:= and (OR and)*
 *	 and		:= not (AND not)*
 *	 not		:= NOT not | predicate
 *	 predicate	:= "(" or ")"
 *				 | operand [cmp operand | [NOT] IN "(" literal, ... ")"
 *						   | [NOT] BETWEEN operand AND operand
 *						   | [NOT] LIKE|ILIKE string | IS [NOT] NULL]
 *	 operand	:= number | string | date | TRUE | FALSE
 *				 | name ["." name] | verb "(" [arg ("," arg)*] ")"
 *	 arg		:= window | or
 *	 window		:= LAST n unit | BETWEEN n AND n unit AGO | BETWEEN date AND date
 *
 * Every error names the token, shows where it is and says what would have
 * been accepted there.
 */
#include "postgres.h"

#include "common/int.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "rule/lexer.h"

/* What may follow a complete condition, for hints. */
typedef enum RuleCloser
{
	CLOSE_END,					/* the whole rule */
	CLOSE_PAREN,				/* inside parentheses */
	CLOSE_ARGS					/* an argument of a verb */
} RuleCloser;

typedef struct RuleParser
{
	const char *text;			/* NUL-terminated */
	RuleToken  *toks;
	int			ntoks;
	int			pos;
	int			depth;			/* parentheses, NOT and calls around here */
	RuleCloser	closer;
	bool		bare_operand;	/* the last predicate was an operand alone */
} RuleParser;

static RuleNode *parse_or(RuleParser *p);

/* ---------------------------------------------------------------------------
 * Error context
 * ---------------------------------------------------------------------------
 */

#define CONTEXT_WIDTH	70		/* characters of the rule shown around an error */

/*
 * "At character N of the rule:", then the line of the rule around that
 * place (cut to CONTEXT_WIDTH characters) with a caret under it.  location
 * is a byte offset; -1 means unknown, and the start of the rule is shown.
 */
char *
rule_error_context(const char *text, int location)
{
	int			len = strlen(text);
	int			loc = location < 0 ? 0 : Min(location, len);
	int			line_start = loc;
	int			line_end = loc;
	int			lineno = 1;
	int			nchars = 0;
	int		   *offsets;
	int			idx;
	int			first;
	int			last;
	int			caret = 0;
	StringInfoData buf;

	while (line_start > 0 && text[line_start - 1] != '\n' && text[line_start - 1] != '\r')
		line_start--;
	while (line_end < len && text[line_end] != '\n' && text[line_end] != '\r')
		line_end++;
	for (int i = 0; i < line_start; i++)
		if (text[i] == '\n' || (text[i] == '\r' && text[i + 1] != '\n'))
			lineno++;

	/* the characters of the line, by byte offset */
	offsets = palloc((line_end - line_start + 1) * sizeof(int));
	idx = -1;
	for (int i = line_start; i < line_end; i += Min(pg_mblen(text + i), line_end - i))
	{
		if (i == loc)
			idx = nchars;
		offsets[nchars++] = i;
	}
	offsets[nchars] = line_end;
	if (idx < 0)
		idx = nchars;

	first = 0;
	last = nchars;
	if (nchars > CONTEXT_WIDTH)
	{
		first = Max(0, idx - CONTEXT_WIDTH / 2);
		last = first + CONTEXT_WIDTH;
		if (last > nchars)
		{
			last = nchars;
			first = nchars - CONTEXT_WIDTH;
		}
	}

	initStringInfo(&buf);
	if (location < 0)
		appendStringInfoString(&buf, "In the rule:\n");
	else if (loc >= len && lineno > 1)
		appendStringInfo(&buf, "At the end of the rule (line %d):\n", lineno);
	else if (loc >= len)
		appendStringInfoString(&buf, "At the end of the rule:\n");
	else if (lineno > 1)
		appendStringInfo(&buf, "At character %d (line %d) of the rule:\n",
						 pg_mbstrlen_with_len(text, loc) + 1, lineno);
	else
		appendStringInfo(&buf, "At character %d of the rule:\n",
						 pg_mbstrlen_with_len(text, loc) + 1);
	if (first > 0)
	{
		appendStringInfoString(&buf, "...");
		caret += 3;
	}
	for (int c = first; c < last; c++)
	{
		const char *ch = text + offsets[c];
		int			clen = offsets[c + 1] - offsets[c];
		int			width;

		/* tabs and other controls would put the caret out of line */
		if ((unsigned char) *ch < 0x20 || *ch == 0x7f)
		{
			appendStringInfoChar(&buf, ' ');
			width = 1;
		}
		else
		{
			appendBinaryStringInfo(&buf, ch, clen);
			width = pg_dsplen(ch);
			if (width < 0)
				width = 1;
		}
		if (c < idx)
			caret += width;
	}
	if (last < nchars)
		appendStringInfoString(&buf, "...");
	if (location >= 0)
	{
		appendStringInfoChar(&buf, '\n');
		appendStringInfoSpaces(&buf, caret);
		appendStringInfoChar(&buf, '^');
	}
	pfree(offsets);
	return buf.data;
}

/* ---------------------------------------------------------------------------
 * Tokens and errors
 * ---------------------------------------------------------------------------
 */

static inline RuleToken *
peek(RuleParser *p)
{
	return &p->toks[p->pos];
}

static inline RuleToken *
peek_next(RuleParser *p)
{
	return &p->toks[Min(p->pos + 1, p->ntoks - 1)];
}

static inline RuleToken *
advance(RuleParser *p)
{
	RuleToken  *tok = &p->toks[p->pos];

	if (tok->kind != TOK_END)
		p->pos++;
	return tok;
}

static inline bool
is_kw(const RuleToken *tok, RuleKeyword kw)
{
	return tok->kind == TOK_KEYWORD && tok->kw == kw;
}

static inline bool
is_unit(const RuleToken *tok)
{
	return tok->kind == TOK_KEYWORD && tok->kw >= KW_DAY && tok->kw <= KW_YEARS;
}

/* The token as written, cut short if long. */
static char *
token_text(RuleParser *p, const RuleToken *tok)
{
	int			keep = pg_mbcliplen(p->text + tok->location, tok->length, 40);

	if (keep < tok->length)
		return psprintf("%s...", pnstrdup(p->text + tok->location, keep));
	return pnstrdup(p->text + tok->location, tok->length);
}

static void
pg_attribute_noreturn()
syntax_error(RuleParser *p, const RuleToken *tok, const char *hint)
{
	if (tok->kind == TOK_END)
		ereport(ERROR,
				errcode(ERRCODE_SYNTAX_ERROR),
				errmsg("syntax error at end of rule"),
				errdetail_internal("%s", rule_error_context(p->text, tok->location)),
				hint ? errhint("%s", hint) : 0);
	ereport(ERROR,
			errcode(ERRCODE_SYNTAX_ERROR),
			errmsg("syntax error at or near \"%s\" in rule", token_text(p, tok)),
			errdetail_internal("%s", rule_error_context(p->text, tok->location)),
			hint ? errhint("%s", hint) : 0);
}

/* An error that is not about the grammar: a message of its own, and where. */
static void
pg_attribute_noreturn()
error_at(RuleParser *p, int location, int sqlerrcode, const char *message, const char *hint)
{
	ereport(ERROR,
			errcode(sqlerrcode),
			errmsg_internal("%s", message),
			errdetail_internal("%s", rule_error_context(p->text, location)),
			hint ? errhint("%s", hint) : 0);
}

/* What may come after a condition, said as a hint. */
static char *
expected_after(RuleParser *p)
{
	const char *ops = p->bare_operand ?
		"a comparison operator, IN, BETWEEN, LIKE, IS, " : "";

	switch (p->closer)
	{
		case CLOSE_PAREN:
			return psprintf("Expected %sAND, OR or \")\".", ops);
		case CLOSE_ARGS:
			return psprintf("Expected %sAND, OR, \",\" or \")\".", ops);
		case CLOSE_END:
			break;
	}
	return psprintf("Expected %sAND, OR or the end of the rule.", ops);
}

/* A token that cannot start an operand here. */
static void
pg_attribute_noreturn()
operand_error(RuleParser *p, const RuleToken *tok, bool condition)
{
	const char *expected = condition ?
		"Expected a condition: a name, a verb call, a literal, NOT or \"(\"." :
		"Expected a literal, a name or a verb call.";

	if (is_kw(tok, KW_NULL))
		syntax_error(p, tok, "To test for a missing value, write IS NULL or IS NOT NULL.");
	if (is_kw(tok, KW_LAST) || (condition && is_kw(tok, KW_BETWEEN)))
		syntax_error(p, tok, "A time window such as LAST 30 DAYS is written only as an argument of a behaviour verb, for example orders(LAST 30 DAYS) >= 1.");
	if (tok->kind == TOK_KEYWORD && !is_kw(tok, KW_NOT))
		syntax_error(p, tok, psprintf("%s To use \"%s\" as a name, write it in double quotes.",
									  expected, tok->str));
	syntax_error(p, tok, expected);
}

/* One more level of nesting at tok; the limit keeps the stack and the canonical text bounded. */
static void
enter(RuleParser *p, const RuleToken *tok)
{
	check_stack_depth();
	if (++p->depth > RULE_MAX_DEPTH)
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("rule nests more than %d levels deep", RULE_MAX_DEPTH),
				errdetail_internal("%s", rule_error_context(p->text, tok->location)),
				errhint("Parentheses, NOT and verb calls each add a level; write the rule with less nesting."));
}

static RuleNode *
make_node(RuleNodeKind kind, int location)
{
	RuleNode   *node = palloc0(sizeof(RuleNode));

	node->kind = kind;
	node->location = location;
	return node;
}

/* ---------------------------------------------------------------------------
 * Windows and verb calls
 * ---------------------------------------------------------------------------
 */

/* A whole, non-negative number of units in a window. */
static int64
window_number(RuleParser *p, const char *hint)
{
	RuleToken  *tok = peek(p);
	int64		n = 0;

	if (tok->kind != TOK_NUMBER)
		syntax_error(p, tok, hint);
	for (int i = 0; i < tok->length; i++)
	{
		char		c = p->text[tok->location + i];

		if (c < '0' || c > '9')
			error_at(p, tok->location, ERRCODE_SYNTAX_ERROR,
					 psprintf("invalid number \"%s\" in time window", token_text(p, tok)),
					 "Time windows count whole days, weeks, months or years: 0, 1, 2 and so on.");
		if (pg_mul_s64_overflow(n, 10, &n) || pg_add_s64_overflow(n, c - '0', &n))
			error_at(p, tok->location, ERRCODE_SYNTAX_ERROR,
					 psprintf("number \"%s\" in time window is too large", token_text(p, tok)),
					 "A time window counts at most 9223372036854775807 units.");
	}
	advance(p);
	return n;
}

static RuleUnit
window_unit(RuleParser *p)
{
	RuleToken  *tok = peek(p);

	if (!is_unit(tok))
		syntax_error(p, tok, "Expected a unit: DAY, DAYS, WEEK, WEEKS, MONTH, MONTHS, YEAR or YEARS.");
	advance(p);
	switch (tok->kw)
	{
		case KW_WEEK:
		case KW_WEEKS:
			return UNIT_WEEK;
		case KW_MONTH:
		case KW_MONTHS:
			return UNIT_MONTH;
		case KW_YEAR:
		case KW_YEARS:
			return UNIT_YEAR;
		default:
			return UNIT_DAY;
	}
}

static void
expect_keyword(RuleParser *p, RuleKeyword kw, const char *hint)
{
	if (!is_kw(peek(p), kw))
		syntax_error(p, peek(p), hint);
	advance(p);
}

/* LAST n unit | BETWEEN n1 AND n2 unit AGO | BETWEEN date AND date */
static RuleNode *
parse_window(RuleParser *p)
{
	RuleToken  *start = advance(p);
	RuleNode   *w = make_node(RN_WINDOW, start->location);
	RuleProblem problem;

	if (is_kw(start, KW_LAST))
	{
		w->wkind = WIN_LAST;
		w->n1 = window_number(p, "Expected the length of the window, as in LAST 30 DAYS.");
		w->unit = window_unit(p);
	}
	else if (peek(p)->kind == TOK_DATE)
	{
		w->wkind = WIN_DATES;
		w->str = advance(p)->str;
		expect_keyword(p, KW_AND, "Expected AND, as in BETWEEN 2026-01-01 AND 2026-03-31.");
		if (peek(p)->kind != TOK_DATE)
			syntax_error(p, peek(p), "Expected a date, as in BETWEEN 2026-01-01 AND 2026-03-31.");
		w->field = advance(p)->str;
	}
	else if (peek(p)->kind == TOK_NUMBER)
	{
		w->wkind = WIN_AGO;
		w->n1 = window_number(p, NULL);
		expect_keyword(p, KW_AND, "Expected AND, as in BETWEEN 90 AND 60 DAYS AGO.");
		w->n2 = window_number(p, "Expected a number, as in BETWEEN 90 AND 60 DAYS AGO.");
		w->unit = window_unit(p);
		expect_keyword(p, KW_AGO, "Expected AGO, as in BETWEEN 90 AND 60 DAYS AGO.");
	}
	else
		syntax_error(p, peek(p),
					 "Expected a number or a date: BETWEEN 90 AND 60 DAYS AGO or BETWEEN 2026-01-01 AND 2026-03-31.");

	if (!rule_check_window(w, &problem))
		error_at(p, w->location, problem.sqlerrcode, problem.message, problem.hint);
	return w;
}

/* verb(args); a bare-capable verb called with no arguments is its name. */
static RuleNode *
parse_call(RuleParser *p)
{
	RuleToken  *name = advance(p);
	const RuleVerb *verb = rule_find_verb(name->str);
	RuleCloser	saved = p->closer;
	RuleNode   *call;
	RuleProblem problem;

	if (verb == NULL)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_FUNCTION),
				errmsg("unknown verb \"%s\" in rule",
					   name->kind == TOK_QIDENT ? name->str : token_text(p, name)),
				errdetail_internal("%s", rule_error_context(p->text, name->location)),
				errhint("%s", rule_unknown_verb_hint(name->str)));

	enter(p, name);
	advance(p);					/* the "(" */
	p->closer = CLOSE_ARGS;
	call = make_node(RN_CALL, name->location);
	call->str = pstrdup(verb->name);

	if (peek(p)->kind == TOK_RPAREN)
		advance(p);
	else
	{
		for (;;)
		{
			RuleToken  *tok = peek(p);
			RuleNode   *arg;

			CHECK_FOR_INTERRUPTS();
			if (is_kw(tok, KW_LAST) || is_kw(tok, KW_BETWEEN))
				arg = parse_window(p);
			else
				arg = parse_or(p);
			call->args = lappend(call->args, arg);

			tok = peek(p);
			if (tok->kind == TOK_COMMA)
			{
				advance(p);
				continue;
			}
			if (tok->kind == TOK_RPAREN)
			{
				advance(p);
				break;
			}
			syntax_error(p, tok, arg->kind == RN_WINDOW ?
						 "Expected \",\" or \")\" after the time window." : expected_after(p));
		}
	}
	p->closer = saved;
	p->depth--;

	if (!rule_check_call(call, verb, &problem))
		error_at(p, problem.node->location, problem.sqlerrcode, problem.message, problem.hint);

	if (verb->bare && call->args == NIL)
		call->kind = RN_NAME;
	return call;
}

/* ---------------------------------------------------------------------------
 * Operands, predicates and boolean structure
 * ---------------------------------------------------------------------------
 */

/* condition: the operand starts a condition (for the hint if it is missing) */
static RuleNode *
parse_operand(RuleParser *p, bool condition)
{
	RuleToken  *tok = peek(p);
	RuleNode   *node;

	switch (tok->kind)
	{
		case TOK_NUMBER:
		case TOK_STRING:
		case TOK_DATE:
			node = make_node(tok->kind == TOK_NUMBER ? RN_NUMBER :
							 tok->kind == TOK_STRING ? RN_STRING : RN_DATE,
							 tok->location);
			node->str = tok->str;
			advance(p);
			return node;
		case TOK_IDENT:
		case TOK_QIDENT:
			if (peek_next(p)->kind == TOK_LPAREN)
				return parse_call(p);
			node = make_node(RN_NAME, tok->location);
			node->str = tok->str;
			advance(p);
			if (peek(p)->kind == TOK_DOT)
			{
				RuleToken  *field;

				advance(p);
				field = peek(p);
				if (field->kind != TOK_IDENT && field->kind != TOK_QIDENT)
					syntax_error(p, field,
								 field->kind == TOK_KEYWORD ?
								 psprintf("Expected a field name after \".\"; to use \"%s\" as one, write it in double quotes.",
										  field->str) :
								 "Expected a field name after \".\", as in rfm.r.");
				node->field = field->str;
				advance(p);
			}
			return node;
		case TOK_KEYWORD:
			if (tok->kw == KW_TRUE || tok->kw == KW_FALSE)
			{
				node = make_node(RN_BOOL, tok->location);
				node->bval = tok->kw == KW_TRUE;
				advance(p);
				return node;
			}
			break;
		default:
			break;
	}
	operand_error(p, tok, condition);
}

static RuleNode *
parse_literal(RuleParser *p)
{
	RuleToken  *tok = peek(p);

	if (tok->kind == TOK_NUMBER || tok->kind == TOK_STRING || tok->kind == TOK_DATE ||
		is_kw(tok, KW_TRUE) || is_kw(tok, KW_FALSE))
		return parse_operand(p, false);
	syntax_error(p, tok, "Expected a literal: a number, a 'string', a date, TRUE or FALSE.");
}

static RuleNode *
parse_predicate(RuleParser *p)
{
	RuleToken  *tok = peek(p);
	RuleNode   *left;
	RuleNode   *node;
	bool		negated = false;

	if (tok->kind == TOK_LPAREN)
	{
		RuleCloser	saved = p->closer;

		enter(p, tok);
		advance(p);
		p->closer = CLOSE_PAREN;
		node = parse_or(p);
		if (peek(p)->kind != TOK_RPAREN)
			syntax_error(p, peek(p), expected_after(p));
		advance(p);
		p->closer = saved;
		p->depth--;
		/* a condition in parentheses is not an operand: it cannot be compared */
		p->bare_operand = false;
		return node;
	}

	left = parse_operand(p, true);
	tok = peek(p);
	p->bare_operand = false;

	if (tok->kind == TOK_OP)
	{
		advance(p);
		node = make_node(RN_CMP, left->location);
		node->op = tok->op;
		node->left = left;
		node->right = parse_operand(p, false);
		return node;
	}

	if (is_kw(tok, KW_NOT))
	{
		RuleToken  *next = peek_next(p);

		if (!is_kw(next, KW_IN) && !is_kw(next, KW_BETWEEN) &&
			!is_kw(next, KW_LIKE) && !is_kw(next, KW_ILIKE))
			syntax_error(p, next, "Expected IN, BETWEEN, LIKE or ILIKE after NOT.");
		negated = true;
		advance(p);
		tok = peek(p);
	}

	if (is_kw(tok, KW_IN))
	{
		advance(p);
		node = make_node(RN_IN, left->location);
		node->left = left;
		node->negated = negated;
		if (peek(p)->kind != TOK_LPAREN)
			syntax_error(p, peek(p), "Expected \"(\" and a list of literals, as in country IN ('RO', 'PL').");
		advance(p);
		for (;;)
		{
			CHECK_FOR_INTERRUPTS();
			node->args = lappend(node->args, parse_literal(p));
			if (peek(p)->kind == TOK_COMMA)
			{
				advance(p);
				continue;
			}
			if (peek(p)->kind == TOK_RPAREN)
			{
				advance(p);
				break;
			}
			syntax_error(p, peek(p), "Expected \",\" or \")\".");
		}
		return node;
	}
	if (is_kw(tok, KW_BETWEEN))
	{
		advance(p);
		node = make_node(RN_BETWEEN, left->location);
		node->left = left;
		node->negated = negated;
		node->right = parse_operand(p, false);
		expect_keyword(p, KW_AND, "Expected AND, as in age(birth_date) BETWEEN 25 AND 34.");
		node->third = parse_operand(p, false);
		return node;
	}
	if (is_kw(tok, KW_LIKE) || is_kw(tok, KW_ILIKE))
	{
		RuleToken  *pattern;

		advance(p);
		node = make_node(RN_LIKE, left->location);
		node->left = left;
		node->negated = negated;
		node->ilike = tok->kw == KW_ILIKE;
		pattern = peek(p);
		if (pattern->kind != TOK_STRING)
			syntax_error(p, pattern, "Expected a pattern in single quotes, as in postal_code LIKE '00-%'.");
		node->right = parse_operand(p, false);
		return node;
	}
	Assert(!negated);
	if (is_kw(tok, KW_IS))
	{
		advance(p);
		node = make_node(RN_ISNULL, left->location);
		node->left = left;
		if (is_kw(peek(p), KW_NOT))
		{
			node->negated = true;
			advance(p);
		}
		expect_keyword(p, KW_NULL, "Expected NULL or NOT NULL.");
		return node;
	}

	p->bare_operand = true;
	return left;
}

static RuleNode *
parse_not(RuleParser *p)
{
	RuleToken  *tok = peek(p);
	RuleNode   *node;

	if (!is_kw(tok, KW_NOT))
		return parse_predicate(p);
	enter(p, tok);
	advance(p);
	node = make_node(RN_NOT, tok->location);
	node->left = parse_not(p);
	p->depth--;
	return node;
}

/* An AND or OR list, flattened: a AND (b AND c) is a AND b AND c. */
static List *
add_flat(List *args, RuleNode *item, RuleNodeKind kind)
{
	if (item->kind == kind)
		return list_concat(args, item->args);
	return lappend(args, item);
}

static RuleNode *
parse_and(RuleParser *p)
{
	RuleNode   *first = parse_not(p);
	RuleNode   *node;

	if (!is_kw(peek(p), KW_AND))
		return first;
	node = make_node(RN_AND, first->location);
	node->args = add_flat(NIL, first, RN_AND);
	while (is_kw(peek(p), KW_AND))
	{
		CHECK_FOR_INTERRUPTS();
		advance(p);
		node->args = add_flat(node->args, parse_not(p), RN_AND);
	}
	return node;
}

static RuleNode *
parse_or(RuleParser *p)
{
	RuleNode   *first;
	RuleNode   *node;

	check_stack_depth();
	first = parse_and(p);
	if (!is_kw(peek(p), KW_OR))
		return first;
	node = make_node(RN_OR, first->location);
	node->args = add_flat(NIL, first, RN_OR);
	while (is_kw(peek(p), KW_OR))
	{
		CHECK_FOR_INTERRUPTS();
		advance(p);
		node->args = add_flat(node->args, parse_and(p), RN_OR);
	}
	return node;
}

RuleNode *
rule_parse(const char *text, int len)
{
	RuleParser	p;
	char	   *copy;
	RuleNode   *node;

	if (len > RULE_MAX_LENGTH)
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("rule is too long"),
				errdetail("The rule is %d bytes long; the limit is %d bytes.", len, RULE_MAX_LENGTH));

	/* a terminated copy: error context and strto* need one */
	copy = palloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';

	memset(&p, 0, sizeof(p));
	p.text = copy;
	p.closer = CLOSE_END;
	p.toks = rule_lex(copy, len, &p.ntoks);

	if (p.toks[0].kind == TOK_END)
		ereport(ERROR,
				errcode(ERRCODE_SYNTAX_ERROR),
				errmsg("rule is empty"),
				errdetail_internal("%s", rule_error_context(copy, p.toks[0].location)),
				errhint("Write a condition, for example city = 'Skopje'."));

	node = parse_or(&p);
	if (peek(&p)->kind != TOK_END)
		syntax_error(&p, peek(&p), peek(&p)->kind == TOK_RPAREN ?
					 "This \")\" has no matching \"(\"." : expected_after(&p));
	pfree(p.toks);
	return node;
}
