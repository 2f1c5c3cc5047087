/*
 * lexer.c: rule text to tokens, and the literal forms of the language.
 *
 * Numbers and dates are checked and normalised here, once: the parser, the
 * canonical form and rule_from_json() all take them from these functions.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "rule/lexer.h"

static const struct
{
	const char *word;
	RuleKeyword kw;
}			keywords[] =
{
	{"and", KW_AND},
	{"or", KW_OR},
	{"not", KW_NOT},
	{"in", KW_IN},
	{"between", KW_BETWEEN},
	{"like", KW_LIKE},
	{"ilike", KW_ILIKE},
	{"is", KW_IS},
	{"null", KW_NULL},
	{"true", KW_TRUE},
	{"false", KW_FALSE},
	{"last", KW_LAST},
	{"ago", KW_AGO},
	{"day", KW_DAY},
	{"days", KW_DAYS},
	{"week", KW_WEEK},
	{"weeks", KW_WEEKS},
	{"month", KW_MONTH},
	{"months", KW_MONTHS},
	{"year", KW_YEAR},
	{"years", KW_YEARS}
};

static const char *const month_names[] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"
};

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Bytes of multibyte characters may appear in names, as in SQL. */
static inline bool
is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		IS_HIGHBIT_SET(c);
}

static inline bool
is_ident_char(char c)
{
	return is_ident_start(c) || is_digit(c);
}

static inline bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* The keyword a lower-case word is, or -1. */
static int
keyword_of(const char *word)
{
	for (int i = 0; i < lengthof(keywords); i++)
		if (strcmp(word, keywords[i].word) == 0)
			return (int) keywords[i].kw;
	return -1;
}

bool
rule_is_keyword(const char *word)
{
	return keyword_of(word) >= 0;
}

/*
 * The canonical text of a decimal written as -?digits[.digits], or NULL if
 * the text is not one: no leading zeros, no trailing fractional zeros, and
 * no minus sign on zero.
 */
char *
rule_normalize_number(const char *text, int len)
{
	StringInfoData buf;
	int			i = 0;
	int			int_start;
	int			int_end;
	int			frac_start = -1;
	int			frac_end = -1;
	bool		negative = false;

	if (len > 0 && text[0] == '-')
	{
		negative = true;
		i++;
	}
	int_start = i;
	while (i < len && is_digit(text[i]))
		i++;
	int_end = i;
	if (int_end == int_start)
		return NULL;
	if (i < len && text[i] == '.')
	{
		i++;
		frac_start = i;
		while (i < len && is_digit(text[i]))
			i++;
		frac_end = i;
		if (frac_end == frac_start)
			return NULL;
	}
	if (i != len)
		return NULL;

	while (int_start < int_end - 1 && text[int_start] == '0')
		int_start++;
	if (frac_start >= 0)
		while (frac_end > frac_start && text[frac_end - 1] == '0')
			frac_end--;

	initStringInfo(&buf);
	if (negative &&
		!(int_end - int_start == 1 && text[int_start] == '0' &&
		  (frac_start < 0 || frac_end == frac_start)))
		appendStringInfoChar(&buf, '-');
	appendBinaryStringInfo(&buf, text + int_start, int_end - int_start);
	if (frac_start >= 0 && frac_end > frac_start)
	{
		appendStringInfoChar(&buf, '.');
		appendBinaryStringInfo(&buf, text + frac_start, frac_end - frac_start);
	}
	return buf.data;
}

/*
 * Whether text is a real calendar date written YYYY-MM-DD; if not, *hint
 * says what is wrong with it.
 */
bool
rule_check_date(const char *text, int len, char **hint)
{
	int			year;
	int			month;
	int			day;
	int			mdays;
	static const int days_in_month[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	*hint = NULL;
	if (len != 10 || text[4] != '-' || text[7] != '-')
	{
		*hint = pstrdup("Write dates as YYYY-MM-DD, for example 2026-01-31.");
		return false;
	}
	for (int i = 0; i < 10; i++)
	{
		if (i != 4 && i != 7 && !is_digit(text[i]))
		{
			*hint = pstrdup("Write dates as YYYY-MM-DD, for example 2026-01-31.");
			return false;
		}
	}
	year = (text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 + (text[3] - '0');
	month = (text[5] - '0') * 10 + (text[6] - '0');
	day = (text[8] - '0') * 10 + (text[9] - '0');
	if (year < 1)
	{
		*hint = pstrdup("Years run from 0001 to 9999.");
		return false;
	}
	if (month < 1 || month > 12)
	{
		*hint = pstrdup("Months run from 01 to 12.");
		return false;
	}
	mdays = days_in_month[month - 1];
	if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		mdays = 29;
	if (day < 1 || day > mdays)
	{
		*hint = psprintf("%s %04d has %d days.", month_names[month - 1], year, mdays);
		return false;
	}
	return true;
}

/* A lexical error: message and hint, with the rule quoted at location. */
static void
pg_attribute_noreturn()
lex_error(const char *text, int location, const char *message, const char *hint)
{
	ereport(ERROR,
			errcode(ERRCODE_SYNTAX_ERROR),
			errmsg_internal("%s", message),
			errdetail_internal("%s", rule_error_context(text, location)),
			hint ? errhint("%s", hint) : 0);
}

/* text[start..end) as a NUL-terminated string, clipped for messages. */
static char *
clip(const char *text, int start, int end)
{
	int			len = end - start;
	int			keep = pg_mbcliplen(text + start, len, 40);

	if (keep < len)
		return psprintf("%s...", pnstrdup(text + start, keep));
	return pnstrdup(text + start, len);
}

/* Reads a 'string' or a "name" starting at text[*pos]; doubled quotes escape. */
static char *
lex_quoted(const char *text, int len, int *pos, char quote)
{
	StringInfoData buf;
	int			start = *pos;
	int			i = start + 1;

	initStringInfo(&buf);
	for (;;)
	{
		int			run = i;

		while (i < len && text[i] != quote)
			i++;
		appendBinaryStringInfo(&buf, text + run, i - run);
		if (i >= len)
		{
			if (quote == '\'')
				lex_error(text, start, "unterminated string in rule",
						  "Close the string with a single quote; write '' for a quote inside it.");
			else
				lex_error(text, start, "unterminated quoted name in rule",
						  "Close the name with a double quote; write \"\" for a quote inside it.");
		}
		if (i + 1 < len && text[i + 1] == quote)
		{
			appendStringInfoChar(&buf, quote);
			i += 2;
			continue;
		}
		i++;
		break;
	}
	*pos = i;
	return buf.data;
}

/*
 * Reads a number or a date at text[*pos] (a digit, or a minus sign and a
 * digit).  Anything glued to it that would make it something else, as in
 * 1e5, 12abc or 1.2.3, is an error rather than two tokens.
 */
static void
lex_number(const char *text, int len, int *pos, RuleToken *tok)
{
	int			start = *pos;
	int			i = start;
	bool		negative = text[i] == '-';
	char	   *hint;

	if (negative)
		i++;
	while (i < len && is_digit(text[i]))
		i++;

	if (i + 1 < len && text[i] == '-' && is_digit(text[i + 1]))
	{
		/* a date; what is glued to it belongs to it */
		while (i < len && (is_ident_char(text[i]) || text[i] == '-'))
			i++;
		if (negative || !rule_check_date(text + start, i - start, &hint))
			lex_error(text, start,
					  psprintf("invalid date \"%s\" in rule", clip(text, start, i)),
					  negative ? "Write dates as YYYY-MM-DD, for example 2026-01-31." : hint);
		tok->kind = TOK_DATE;
		tok->str = pnstrdup(text + start, i - start);
		*pos = i;
		return;
	}

	if (i + 1 < len && text[i] == '.' && is_digit(text[i + 1]))
	{
		i++;
		while (i < len && is_digit(text[i]))
			i++;
	}
	if (i < len && (is_ident_char(text[i]) || text[i] == '.'))
	{
		while (i < len && (is_ident_char(text[i]) || text[i] == '.'))
			i++;
		lex_error(text, start,
				  psprintf("invalid number \"%s\" in rule", clip(text, start, i)),
				  "Write numbers as digits with an optional minus sign and decimal point, for example -12.5.");
	}
	tok->kind = TOK_NUMBER;
	tok->str = rule_normalize_number(text + start, i - start);
	Assert(tok->str != NULL);
	*pos = i;
}

RuleToken *
rule_lex(const char *text, int len, int *ntokens)
{
	int			cap = 64;
	int			n = 0;
	RuleToken  *toks = palloc(cap * sizeof(RuleToken));
	int			i = 0;
	const char *zero = memchr(text, '\0', len);

	/* not even inside quotes: names and strings are C strings from here on */
	if (zero != NULL)
		lex_error(text, zero - text, "unexpected control character 0x00 in rule",
				  "Rules may contain spaces, tabs and line breaks, but no other control characters.");

	for (;;)
	{
		RuleToken  *tok;
		char		c;

		CHECK_FOR_INTERRUPTS();
		while (i < len && is_space(text[i]))
			i++;
		if (n == cap)
		{
			cap *= 2;
			toks = repalloc(toks, cap * sizeof(RuleToken));
		}
		tok = &toks[n++];
		memset(tok, 0, sizeof(RuleToken));
		tok->location = i;
		if (i >= len)
		{
			tok->kind = TOK_END;
			break;
		}

		c = text[i];
		if (is_ident_start(c))
		{
			int			start = i;
			char	   *word;
			int			kw;

			while (i < len && is_ident_char(text[i]))
				i++;
			word = pnstrdup(text + start, i - start);
			for (char *p = word; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p += 'a' - 'A';
			kw = keyword_of(word);
			if (kw >= 0)
			{
				tok->kind = TOK_KEYWORD;
				tok->kw = (RuleKeyword) kw;
			}
			else
				tok->kind = TOK_IDENT;
			tok->str = word;
		}
		else if (is_digit(c) || (c == '-' && i + 1 < len && is_digit(text[i + 1])))
			lex_number(text, len, &i, tok);
		else if (c == '\'')
		{
			tok->kind = TOK_STRING;
			tok->str = lex_quoted(text, len, &i, '\'');
		}
		else if (c == '"')
		{
			tok->kind = TOK_QIDENT;
			tok->str = lex_quoted(text, len, &i, '"');
			if (tok->str[0] == '\0')
				lex_error(text, tok->location, "zero-length quoted name in rule",
						  "A name in double quotes needs at least one character.");
		}
		else if (c == '(' || c == ')' || c == ',' || c == '.')
		{
			tok->kind = c == '(' ? TOK_LPAREN : c == ')' ? TOK_RPAREN :
				c == ',' ? TOK_COMMA : TOK_DOT;
			i++;
		}
		else if (c == '=' || c == '<' || c == '>' ||
				 (c == '!' && i + 1 < len && text[i + 1] == '='))
		{
			char		next = i + 1 < len ? text[i + 1] : '\0';

			tok->kind = TOK_OP;
			i++;
			if (c == '=')
				tok->op = CMP_EQ;
			else if (c == '!')
			{
				tok->op = CMP_NE;
				i++;
			}
			else if (c == '<' && next == '>')
			{
				tok->op = CMP_NE;
				i++;
			}
			else if (next == '=')
			{
				tok->op = c == '<' ? CMP_LE : CMP_GE;
				i++;
			}
			else
				tok->op = c == '<' ? CMP_LT : CMP_GT;
		}
		else if ((unsigned char) c < 0x20 || c == 0x7f)
			lex_error(text, i,
					  psprintf("unexpected control character 0x%02x in rule", (unsigned char) c),
					  "Rules may contain spaces, tabs and line breaks, but no other control characters.");
		else
		{
			int			clen = Min(pg_mblen(text + i), len - i);

			lex_error(text, i,
					  psprintf("unexpected character \"%s\" in rule", pnstrdup(text + i, clen)),
					  c == ';' ? "A rule is one condition; it needs no semicolon." :
					  c == '-' ? "A minus sign belongs to a number, as in -5; rules have no arithmetic." :
					  "Rules are made of names, literals, verb calls, comparison operators, IN, BETWEEN, LIKE, IS, AND, OR, NOT and parentheses.");
		}
		tok->length = i - tok->location;
	}
	*ntokens = n;
	return toks;
}
