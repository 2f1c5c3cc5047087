/*
 * rfm_bin.c: the bin of a value among RFM's cut points, one rule for
 * segment.rfm_refresh() and for rescoring (rescore.c).
 *
 * Cut points are the upper bounds of the bins, ascending; a value's bin is
 * 1 + the number of cut points below it, so a value on a cut point takes
 * the lower bin.  An empty bin (ntile over fewer customers than bins) has
 * no upper bound: NULL cut points are not counted.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"

PG_FUNCTION_INFO_V1(segment_rfm_bin);

/*
 * The cut points of the last call, kept in fn_extra: a statement scores
 * every row against the same few, so they are taken apart once.
 */
typedef struct CutPoints
{
	ArrayType  *array;			/* a copy, to tell the next call's from */
	Datum	   *cuts;			/* its non-NULL elements, ascending */
	int			n;
} CutPoints;

static CutPoints *
cut_points(FunctionCallInfo fcinfo, ArrayType *arr)
{
	CutPoints  *cp = fcinfo->flinfo->fn_extra;
	MemoryContext old;
	bool	   *nulls;
	int			n;

	if (cp && VARSIZE(cp->array) == VARSIZE(arr) && memcmp(cp->array, arr, VARSIZE(arr)) == 0)
		return cp;
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("RFM cut points must be a one-dimensional array, not %d-dimensional",
						ARR_NDIM(arr))));
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	if (cp == NULL)
		cp = fcinfo->flinfo->fn_extra = palloc0(sizeof(CutPoints));
	else
	{
		pfree(cp->array);
		pfree(cp->cuts);
	}
	cp->array = palloc(VARSIZE(arr));
	memcpy(cp->array, arr, VARSIZE(arr));
	deconstruct_array(cp->array, NUMERICOID, -1, false, TYPALIGN_INT, &cp->cuts, &nulls, &n);
	cp->n = 0;
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			cp->cuts[cp->n++] = cp->cuts[i];
	pfree(nulls);
	MemoryContextSwitchTo(old);
	return cp;
}

/*
 * segment._rfm_bin(value numeric, cuts numeric[]) returns integer, by a
 * binary search over the cut points given.
 */
Datum
segment_rfm_bin(PG_FUNCTION_ARGS)
{
	Datum		value = PG_GETARG_DATUM(0);
	CutPoints  *cp = cut_points(fcinfo, PG_GETARG_ARRAYTYPE_P(1));
	int			lo = 0;

	/* the first cut point at or above the value: those before it are below */
	for (int hi = cp->n; lo < hi;)
	{
		int			mid = lo + (hi - lo) / 2;

		if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, cp->cuts[mid], value)) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	PG_RETURN_INT32(lo + 1);
}
