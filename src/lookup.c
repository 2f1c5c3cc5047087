/*
 * lookup.c: segment.is_member() and segment.segments_of(), the lookups apps
 * make on every page view or checkout.
 *
 * A SQL function that is SECURITY DEFINER cannot be inlined, and its body
 * is planned again each time the calling statement runs; here each lookup's
 * plan is prepared once per backend and kept, so a call costs an index probe.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "kept.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(segment_is_member);
PG_FUNCTION_INFO_V1(segment_segments_of);

/* The customer key as stored in membership: its type's text form. */
static Datum
customer_key_text(FunctionCallInfo fcinfo, int argno)
{
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, argno);
	Oid			output;
	bool		varlena;

	if (!OidIsValid(type))
		elog(ERROR, "could not determine the type of the customer key");
	if (type == TEXTOID)
		return PG_GETARG_DATUM(argno);
	getTypeOutputInfo(type, &output, &varlena);
	return CStringGetTextDatum(OidOutputFunctionCall(output, PG_GETARG_DATUM(argno)));
}

/*
 * segment.is_member(customer anyelement, segment text) returns boolean;
 * an unknown segment is an error, as elsewhere.
 */
Datum
segment_is_member(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static Oid	types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	bool		isnull;
	bool		member;

	values[0] = customer_key_text(fcinfo, 0);
	values[1] = PG_GETARG_DATUM(1);
	SPI_connect();
	kept_run(&plan,
			 "SELECT EXISTS (SELECT 1 FROM segment.membership m"
			 " WHERE m.customer_id = $1 AND m.segment_id = s.id)"
			 " FROM segment.segments s WHERE s.name = $2",
			 2, types, values, NULL, true, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("segment \"%s\" does not exist", text_to_cstring(PG_GETARG_TEXT_PP(1))),
				errhint("The defined segments are listed in segment.segments."));
	member = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	PG_RETURN_BOOL(member);
}

/* segment.segments_of(customer anyelement) returns text[], by name. */
Datum
segment_segments_of(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static Oid	types[1] = {TEXTOID};
	Datum		values[1];
	Datum	   *names;
	int			n;
	ArrayType  *result;
	MemoryContext caller = CurrentMemoryContext;

	values[0] = customer_key_text(fcinfo, 0);
	SPI_connect();
	/*
	 * Each name by its key, not a join: for a join the planner hashes the
	 * segments table, which cost more than the rest (p50 at scale 1: 0.048
	 * ms, 0.020 ms this way).  A name is null only for a row whose segment
	 * is being dropped; it is skipped.
	 */
	kept_run(&plan,
			 "SELECT (SELECT s.name FROM segment.segments s WHERE s.id = m.segment_id) AS name"
			 " FROM segment.membership m WHERE m.customer_id = $1 ORDER BY 1",
			 1, types, values, NULL, true, SPI_OK_SELECT);
	names = MemoryContextAlloc(caller, sizeof(Datum) * Max(SPI_processed, 1));
	n = 0;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		name = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
		MemoryContext spi;

		if (isnull)
			continue;
		spi = MemoryContextSwitchTo(caller);
		names[n++] = PointerGetDatum(DatumGetTextPCopy(name));
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	result = construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT);
	PG_RETURN_ARRAYTYPE_P(result);
}
