/*
 * rule_type.c: the segment.rule type: text and binary I/O, comparison,
 * hashing, and conversion to and from JSON.
 *
 * The stored value is the canonical text, so a dump carries a readable rule
 * that any later version can parse again, and equality is byte equality.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "rule/rule_type.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/jsonb.h"

PG_FUNCTION_INFO_V1(rule_in);
PG_FUNCTION_INFO_V1(rule_out);
PG_FUNCTION_INFO_V1(rule_recv);
PG_FUNCTION_INFO_V1(rule_send);
PG_FUNCTION_INFO_V1(rule_eq);
PG_FUNCTION_INFO_V1(rule_ne);
PG_FUNCTION_INFO_V1(rule_lt);
PG_FUNCTION_INFO_V1(rule_le);
PG_FUNCTION_INFO_V1(rule_gt);
PG_FUNCTION_INFO_V1(rule_ge);
PG_FUNCTION_INFO_V1(rule_cmp);
PG_FUNCTION_INFO_V1(rule_hash);
PG_FUNCTION_INFO_V1(rule_hash_extended);
PG_FUNCTION_INFO_V1(rule_to_json);
PG_FUNCTION_INFO_V1(rule_from_json);

/*
 * The datum for a tree: its canonical text.  The limit applies to that text
 * too, since it must parse again; it can be longer than what was typed.
 */
static text *
canonical_datum(const RuleNode *tree)
{
	char	   *canonical = rule_deparse(tree);
	int			len = strlen(canonical);

	if (len > RULE_MAX_LENGTH)
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("rule is too long"),
				errdetail("Its canonical form is %d bytes long; the limit is %d bytes.",
						  len, RULE_MAX_LENGTH),
				errhint("The canonical form puts single spaces around operators; shorten the rule."));
	return cstring_to_text_with_len(canonical, len);
}

/* The canonical text must read back as itself; checked where it is cheap to. */
static void
check_fixed_point(const text *t)
{
	RuleNode   *again = rule_parse(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	char	   *text_again = rule_deparse(again);

	if (strlen(text_again) != VARSIZE_ANY_EXHDR(t) ||
		memcmp(text_again, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)) != 0)
		elog(ERROR, "canonical rule text does not read back as itself: %s", text_again);
}

char *
rule_datum_text(Datum rule)
{
	return text_to_cstring(DatumGetTextPP(rule));
}

RuleNode *
rule_parse_datum(Datum rule)
{
	text	   *t = DatumGetTextPP(rule);

	return rule_parse(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

Datum
rule_datum_from_text(const char *text)
{
	return PointerGetDatum(canonical_datum(rule_parse(text, strlen(text))));
}

Datum
rule_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	text	   *result = canonical_datum(rule_parse(str, strlen(str)));

#ifdef USE_ASSERT_CHECKING
	check_fixed_point(result);
#endif
	PG_RETURN_TEXT_P(result);
}

Datum
rule_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(text_to_cstring(PG_GETARG_TEXT_PP(0)));
}

/*
 * Binary form: a version byte, then the text in the client encoding (as
 * for text and jsonb).  Everything is checked again, as on text input; a
 * rule that does not parse is bad binary input.
 */
Datum
rule_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	MemoryContext cxt = CurrentMemoryContext;
	int			version;
	int			nbytes;
	char	   *str;
	RuleNode   *volatile tree = NULL;

	if (buf->cursor >= buf->len)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				errmsg("invalid binary segment.rule"),
				errdetail("The value is empty; it must start with a version byte."));
	version = pq_getmsgbyte(buf);
	if (version != RULE_BINARY_VERSION)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				errmsg("unsupported binary format version %d of segment.rule", version),
				errdetail("This version of segment reads version %d.", RULE_BINARY_VERSION));
	nbytes = buf->len - buf->cursor;
	if (!pg_verify_mbstr(pg_get_client_encoding(), buf->data + buf->cursor, nbytes, true))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				errmsg("invalid binary segment.rule"),
				errdetail("The rule text is not valid in the client encoding \"%s\".",
						  pg_get_client_encoding_name()));
	str = pq_getmsgtext(buf, nbytes, &nbytes);

	PG_TRY();
	{
		tree = rule_parse(str, nbytes);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION)
		{
			FreeErrorData(edata);
			PG_RE_THROW();
		}
		FlushErrorState();
		edata->sqlerrcode = ERRCODE_INVALID_BINARY_REPRESENTATION;
		ReThrowError(edata);
	}
	PG_END_TRY();

	PG_RETURN_TEXT_P(canonical_datum(tree));
}

Datum
rule_send(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, RULE_BINARY_VERSION);
	pq_sendtext(&buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Bytewise order of the canonical text: memcmp, then the shorter first. */
static int
rule_compare(FunctionCallInfo fcinfo)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	text	   *b = PG_GETARG_TEXT_PP(1);
	int			alen = VARSIZE_ANY_EXHDR(a);
	int			blen = VARSIZE_ANY_EXHDR(b);
	int			result = memcmp(VARDATA_ANY(a), VARDATA_ANY(b), Min(alen, blen));

	if (result == 0)
		result = (alen > blen) - (alen < blen);
	else
		result = result > 0 ? 1 : -1;
	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	return result;
}

Datum
rule_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(rule_compare(fcinfo) == 0);
}

Datum
rule_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(rule_compare(fcinfo) != 0);
}

Datum
rule_lt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(rule_compare(fcinfo) < 0);
}

Datum
rule_le(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(rule_compare(fcinfo) <= 0);
}

Datum
rule_gt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(rule_compare(fcinfo) > 0);
}

Datum
rule_ge(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(rule_compare(fcinfo) >= 0);
}

Datum
rule_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(rule_compare(fcinfo));
}

Datum
rule_hash(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	Datum		result = hash_any((unsigned char *) VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));

	PG_FREE_IF_COPY(t, 0);
	PG_RETURN_DATUM(result);
}

Datum
rule_hash_extended(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	Datum		result = hash_any_extended((unsigned char *) VARDATA_ANY(t),
										   VARSIZE_ANY_EXHDR(t), PG_GETARG_INT64(1));

	PG_FREE_IF_COPY(t, 0);
	PG_RETURN_DATUM(result);
}

Datum
rule_to_json(PG_FUNCTION_ARGS)
{
	char	   *json = rule_to_json_text(rule_parse_datum(PG_GETARG_DATUM(0)));

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

/*
 * The tree is checked as it is read; reading its canonical text back once
 * more guarantees that no JSON can make a value the parser would refuse.
 */
Datum
rule_from_json(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	text	   *result = canonical_datum(rule_from_jsonb((struct Jsonb *) jb));

	check_fixed_point(result);
	PG_RETURN_TEXT_P(result);
}
