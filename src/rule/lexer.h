/*
 * lexer.h: the tokens of the rule language.
 *
 * The whole rule is split into tokens before parsing: rules are short (at
 * most RULE_MAX_LENGTH bytes), and an array makes lookahead trivial.
 */
#ifndef SEGMENT_RULE_LEXER_H
#define SEGMENT_RULE_LEXER_H

#include "rule/ast.h"

typedef enum RuleTokenKind
{
	TOK_END,					/* end of the rule */
	TOK_IDENT,					/* unquoted name, folded to lower case */
	TOK_QIDENT,					/* "quoted name", as written */
	TOK_KEYWORD,				/* kw */
	TOK_NUMBER,					/* str: canonical decimal */
	TOK_STRING,					/* str: unescaped */
	TOK_DATE,					/* str: YYYY-MM-DD, a valid date */
	TOK_OP,						/* op */
	TOK_LPAREN,
	TOK_RPAREN,
	TOK_COMMA,
	TOK_DOT
} RuleTokenKind;

typedef enum RuleKeyword
{
	KW_AND,
	KW_OR,
	KW_NOT,
	KW_IN,
	KW_BETWEEN,
	KW_LIKE,
	KW_ILIKE,
	KW_IS,
	KW_NULL,
	KW_TRUE,
	KW_FALSE,
	KW_LAST,
	KW_AGO,
	KW_DAY,
	KW_DAYS,
	KW_WEEK,
	KW_WEEKS,
	KW_MONTH,
	KW_MONTHS,
	KW_YEAR,
	KW_YEARS
} RuleKeyword;

typedef struct RuleToken
{
	RuleTokenKind kind;
	int			location;		/* byte offset of its first byte */
	int			length;			/* bytes it takes in the rule */
	char	   *str;			/* names, literals */
	RuleKeyword kw;
	RuleCmpOp	op;
} RuleToken;

/*
 * Splits text[0..len) into tokens, the last one TOK_END; ereports lexical
 * errors (unterminated strings, bad numbers or dates, stray characters).
 */
extern RuleToken *rule_lex(const char *text, int len, int *ntokens);

#endif							/* SEGMENT_RULE_LEXER_H */
