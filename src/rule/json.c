/*
 * json.c: a rule tree as JSON, and back.
 *
 * The JSON form is for programs that build or inspect rules: one object per
 * node, named by the key that says what it is ("and", "op", "verb", ...).
 * Reading it checks everything the parser checks, with the same shared
 * checks, and names the JSON path of what is wrong.
 */
#include "postgres.h"

#include "common/int.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "rule/ast.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

/* ---------------------------------------------------------------------------
 * Tree to JSON text
 * ---------------------------------------------------------------------------
 */

static void json_node(StringInfo buf, const RuleNode *node);

static void
json_list(StringInfo buf, List *items)
{
	ListCell   *lc;

	appendStringInfoChar(buf, '[');
	foreach(lc, items)
	{
		CHECK_FOR_INTERRUPTS();
		if (lc != list_head(items))
			appendStringInfoString(buf, ", ");
		json_node(buf, lfirst(lc));
	}
	appendStringInfoChar(buf, ']');
}

static void
json_node(StringInfo buf, const RuleNode *node)
{
	check_stack_depth();

	switch (node->kind)
	{
		case RN_AND:
		case RN_OR:
			appendStringInfo(buf, "{\"%s\": ", node->kind == RN_AND ? "and" : "or");
			json_list(buf, node->args);
			appendStringInfoChar(buf, '}');
			break;
		case RN_NOT:
			appendStringInfoString(buf, "{\"not\": ");
			json_node(buf, node->left);
			appendStringInfoChar(buf, '}');
			break;
		case RN_CMP:
			appendStringInfo(buf, "{\"op\": \"%s\", \"left\": ", rule_cmp_op_name(node->op));
			json_node(buf, node->left);
			appendStringInfoString(buf, ", \"right\": ");
			json_node(buf, node->right);
			appendStringInfoChar(buf, '}');
			break;
		case RN_IN:
			appendStringInfoString(buf, "{\"in\": ");
			json_node(buf, node->left);
			appendStringInfoString(buf, ", \"values\": ");
			json_list(buf, node->args);
			appendStringInfo(buf, ", \"negated\": %s}", node->negated ? "true" : "false");
			break;
		case RN_BETWEEN:
			appendStringInfoString(buf, "{\"between\": ");
			json_node(buf, node->left);
			appendStringInfoString(buf, ", \"low\": ");
			json_node(buf, node->right);
			appendStringInfoString(buf, ", \"high\": ");
			json_node(buf, node->third);
			appendStringInfo(buf, ", \"negated\": %s}", node->negated ? "true" : "false");
			break;
		case RN_LIKE:
			appendStringInfoString(buf, "{\"like\": ");
			json_node(buf, node->left);
			appendStringInfoString(buf, ", \"pattern\": ");
			escape_json(buf, node->right->str);
			appendStringInfo(buf, ", \"ilike\": %s, \"negated\": %s}",
							 node->ilike ? "true" : "false", node->negated ? "true" : "false");
			break;
		case RN_ISNULL:
			appendStringInfoString(buf, "{\"is_null\": ");
			json_node(buf, node->left);
			appendStringInfo(buf, ", \"negated\": %s}", node->negated ? "true" : "false");
			break;
		case RN_NUMBER:
		case RN_STRING:
		case RN_DATE:
			appendStringInfo(buf, "{\"%s\": ", node->kind == RN_NUMBER ? "number" :
							 node->kind == RN_STRING ? "string" : "date");
			escape_json(buf, node->str);
			appendStringInfoChar(buf, '}');
			break;
		case RN_BOOL:
			appendStringInfo(buf, "{\"bool\": %s}", node->bval ? "true" : "false");
			break;
		case RN_NAME:
			appendStringInfoString(buf, "{\"name\": ");
			escape_json(buf, node->str);
			if (node->field)
			{
				appendStringInfoString(buf, ", \"field\": ");
				escape_json(buf, node->field);
			}
			appendStringInfoChar(buf, '}');
			break;
		case RN_CALL:
			appendStringInfoString(buf, "{\"verb\": ");
			escape_json(buf, node->str);
			appendStringInfoString(buf, ", \"args\": ");
			json_list(buf, node->args);
			appendStringInfoChar(buf, '}');
			break;
		case RN_WINDOW:
			switch (node->wkind)
			{
				case WIN_LAST:
					appendStringInfo(buf, "{\"window\": \"last\", \"n\": " INT64_FORMAT ", \"unit\": \"%s\"}",
									 node->n1, rule_unit_name(node->unit, false));
					break;
				case WIN_AGO:
					appendStringInfo(buf, "{\"window\": \"ago\", \"from\": " INT64_FORMAT
									 ", \"to\": " INT64_FORMAT ", \"unit\": \"%s\"}",
									 node->n1, node->n2, rule_unit_name(node->unit, false));
					break;
				case WIN_DATES:
					appendStringInfo(buf, "{\"window\": \"dates\", \"from\": \"%s\", \"to\": \"%s\"}",
									 node->str, node->field);
					break;
			}
			break;
	}
}

char *
rule_to_json_text(const RuleNode *node)
{
	StringInfoData buf;

	initStringInfo(&buf);
	json_node(&buf, node);
	return buf.data;
}

/* ---------------------------------------------------------------------------
 * JSONB to tree
 * ---------------------------------------------------------------------------
 */

/* Where a node may stand, which limits what it may be. */
typedef enum JsonPlace
{
	PLACE_CONDITION,			/* the rule, AND/OR/NOT operands */
	PLACE_ARGUMENT,				/* a verb argument: a condition or a window */
	PLACE_OPERAND,				/* compared: a literal, a name or a verb call */
	PLACE_LITERAL				/* an IN list value */
} JsonPlace;

/* The key that says what a node is, and the other keys it may have. */
typedef struct NodeShape
{
	const char *key;
	const char *const others[4];
} NodeShape;

static const NodeShape shapes[] = {
	{"and", {NULL}},
	{"or", {NULL}},
	{"not", {NULL}},
	{"op", {"left", "right", NULL}},
	{"in", {"values", "negated", NULL}},
	{"between", {"low", "high", "negated", NULL}},
	{"like", {"pattern", "ilike", "negated", NULL}},
	{"is_null", {"negated", NULL}},
	{"number", {NULL}},
	{"string", {NULL}},
	{"date", {NULL}},
	{"bool", {NULL}},
	{"name", {"field", NULL}},
	{"verb", {"args", NULL}},
	{"window", {"n", "unit", "from", "to"}}
};

static const char *const window_keys[] = {"n", "unit", "from", "to"};

static void
pg_attribute_noreturn()
json_error(const char *path, const char *message, const char *hint)
{
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("invalid rule JSON at %s: %s", path, message),
			hint ? errhint("%s", hint) : 0);
}

static const char *
json_type_name(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "a string";
		case jbvNumeric:
			return "a number";
		case jbvBool:
			return "a boolean";
		case jbvBinary:
			return JsonContainerIsArray(v->val.binary.data) ? "an array" : "an object";
		default:
			return "a composite value";
	}
}

static inline bool
is_object(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

static inline bool
is_array(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data);
}

static char *
key_path(const char *path, const char *key)
{
	return psprintf("%s.%s", path, key);
}

static char *
elem_path(const char *path, const char *key, int i)
{
	return psprintf("%s.%s[%d]", path, key, i);
}

/* The value of key in an object, or NULL when it is missing. */
static JsonbValue *
get_key(const JsonbValue *obj, const char *key)
{
	JsonbValue *res = palloc(sizeof(JsonbValue));

	if (getKeyJsonValueFromContainer(obj->val.binary.data, key, strlen(key), res) == NULL)
	{
		pfree(res);
		return NULL;
	}
	return res;
}

static JsonbValue *
require_key(const JsonbValue *obj, const char *path, const char *key, const char *node)
{
	JsonbValue *v = get_key(obj, key);

	if (v == NULL)
		json_error(path, psprintf("missing key \"%s\" in a node with key \"%s\"", key, node), NULL);
	return v;
}

static char *
string_value(const JsonbValue *v, const char *path)
{
	if (v->type != jbvString)
		json_error(path, psprintf("expected a string, found %s", json_type_name(v)), NULL);
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* An optional boolean key, false when missing. */
static bool
bool_key(const JsonbValue *obj, const char *path, const char *key)
{
	JsonbValue *v = get_key(obj, key);

	if (v == NULL)
		return false;
	if (v->type != jbvBool)
		json_error(key_path(path, key),
				   psprintf("expected true or false, found %s", json_type_name(v)), NULL);
	return v->val.boolean;
}

/* A whole number that fits in int64, for windows. */
static int64
int_value(const JsonbValue *v, const char *path)
{
	char	   *text;
	int64		n = 0;
	bool		negative;

	if (v->type != jbvNumeric)
		json_error(path, psprintf("expected a whole number, found %s", json_type_name(v)), NULL);
	text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	negative = text[0] == '-';
	for (const char *c = text + (negative ? 1 : 0); *c; c++)
	{
		if (*c < '0' || *c > '9')
			json_error(path, psprintf("expected a whole number, found %s", text), NULL);
		if (pg_mul_s64_overflow(n, 10, &n) ||
			pg_add_s64_overflow(n, negative ? -(*c - '0') : *c - '0', &n))
			json_error(path, psprintf("number %s is too large", text),
					   "A time window counts at most 9223372036854775807 units.");
	}
	return n;
}

static RuleUnit
unit_value(const JsonbValue *v, const char *path)
{
	char	   *unit = string_value(v, path);

	for (int u = UNIT_DAY; u <= UNIT_YEAR; u++)
		if (strcmp(unit, rule_unit_name((RuleUnit) u, false)) == 0)
			return (RuleUnit) u;
	json_error(path, psprintf("unknown unit \"%s\"", unit),
			   "The units are \"day\", \"week\", \"month\" and \"year\".");
}

/*
 * The shape of a node object: its kind key, with every key checked against
 * the ones that kind may have.
 */
static const NodeShape *
node_shape(const JsonbValue *v, const char *path)
{
	const NodeShape *shape = NULL;
	const char *kind_key = NULL;
	JsonbIterator *it;
	JsonbValue	key;
	JsonbIteratorToken tok;
	List	   *keys = NIL;
	ListCell   *lc;

	if (!is_object(v))
		json_error(path, psprintf("expected a rule node (an object), found %s", json_type_name(v)),
				   NULL);

	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		if (tok != WJB_KEY)
			continue;
		keys = lappend(keys, pnstrdup(key.val.string.val, key.val.string.len));
		for (int i = 0; i < lengthof(shapes); i++)
		{
			if (strcmp(llast(keys), shapes[i].key) != 0)
				continue;
			if (shape)
				json_error(path, psprintf("a node cannot have both \"%s\" and \"%s\"",
										  kind_key, shapes[i].key), NULL);
			shape = &shapes[i];
			kind_key = shapes[i].key;
		}
	}
	if (shape == NULL)
		json_error(path, keys ? "unknown node" : "empty object",
				   "A node has one of the keys \"and\", \"or\", \"not\", \"op\", \"in\", \"between\", \"like\", \"is_null\", \"number\", \"string\", \"date\", \"bool\", \"name\", \"verb\" or \"window\".");

	foreach(lc, keys)
	{
		const char *k = lfirst(lc);
		bool		known = strcmp(k, shape->key) == 0;

		for (int i = 0; !known && i < lengthof(shape->others) && shape->others[i]; i++)
			known = strcmp(k, shape->others[i]) == 0;
		if (!known)
			json_error(path, psprintf("unknown key \"%s\" in a \"%s\" node", k, shape->key), NULL);
	}
	return shape;
}

static inline void
check_depth(int depth, const char *path)
{
	if (depth > RULE_MAX_DEPTH)
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("invalid rule JSON at %s: rule nests more than %d levels deep",
					   path, RULE_MAX_DEPTH),
				errhint("NOT, verb calls and OR inside AND each add a level, as parentheses do in the text."));
}

static RuleNode *json_to_node(const JsonbValue *v, const char *path, int depth, JsonPlace place);

/*
 * The elements of an array key, as nodes.  depth is the nesting in the
 * canonical text; an OR under an AND is written in parentheses there, which
 * counts as a level.
 */
static List *
json_node_list(const JsonbValue *obj, const char *path, const char *key,
			   int depth, JsonPlace place, RuleNodeKind parent, List **paths)
{
	JsonbValue *arr = get_key(obj, key);
	JsonbContainer *jc;
	List	   *nodes = NIL;
	int			n;

	if (arr == NULL)
		return NIL;
	if (!is_array(arr))
		json_error(key_path(path, key), psprintf("expected an array, found %s", json_type_name(arr)),
				   NULL);
	jc = arr->val.binary.data;
	n = JsonContainerSize(jc);
	for (int i = 0; i < n; i++)
	{
		JsonbValue *elem = getIthJsonbValueFromContainer(jc, i);
		char	   *epath = elem_path(path, key, i);
		int			edepth = depth;

		CHECK_FOR_INTERRUPTS();
		if (parent == RN_AND && is_object(elem) && get_key(elem, "or") != NULL)
			check_depth(++edepth, epath);
		nodes = lappend(nodes, json_to_node(elem, epath, edepth, place));
		if (paths)
			*paths = lappend(*paths, epath);
	}
	return nodes;
}

static RuleNode *
make_node(RuleNodeKind kind)
{
	RuleNode   *node = palloc0(sizeof(RuleNode));

	node->kind = kind;
	node->location = -1;
	return node;
}

static RuleNode *
json_window(const JsonbValue *v, const char *path)
{
	RuleNode   *w = make_node(RN_WINDOW);
	char	   *kind = string_value(require_key(v, path, "window", "window"), key_path(path, "window"));
	const char *keys[4] = {NULL};
	RuleProblem problem;

	if (strcmp(kind, "last") == 0)
	{
		w->wkind = WIN_LAST;
		w->n1 = int_value(require_key(v, path, "n", "window"), key_path(path, "n"));
		w->unit = unit_value(require_key(v, path, "unit", "window"), key_path(path, "unit"));
		keys[0] = "n";
		keys[1] = "unit";
	}
	else if (strcmp(kind, "ago") == 0)
	{
		w->wkind = WIN_AGO;
		w->n1 = int_value(require_key(v, path, "from", "window"), key_path(path, "from"));
		w->n2 = int_value(require_key(v, path, "to", "window"), key_path(path, "to"));
		w->unit = unit_value(require_key(v, path, "unit", "window"), key_path(path, "unit"));
		keys[0] = "from";
		keys[1] = "to";
		keys[2] = "unit";
	}
	else if (strcmp(kind, "dates") == 0)
	{
		w->wkind = WIN_DATES;
		w->str = string_value(require_key(v, path, "from", "window"), key_path(path, "from"));
		w->field = string_value(require_key(v, path, "to", "window"), key_path(path, "to"));
		keys[0] = "from";
		keys[1] = "to";
	}
	else
		json_error(key_path(path, "window"), psprintf("unknown window \"%s\"", kind),
				   "The windows are \"last\", \"ago\" and \"dates\".");

	/* the keys of the other window kinds */
	for (int i = 0; i < lengthof(window_keys); i++)
	{
		const char *k = window_keys[i];
		bool		mine = false;

		for (int j = 0; keys[j]; j++)
			mine |= strcmp(k, keys[j]) == 0;
		if (!mine && get_key(v, k) != NULL)
			json_error(path, psprintf("unknown key \"%s\" in a \"%s\" window", k, kind), NULL);
	}

	if (!rule_check_window(w, &problem))
		json_error(path, problem.message, problem.hint);
	return w;
}

static RuleNode *
json_call(const JsonbValue *v, const char *path, int depth)
{
	RuleNode   *call = make_node(RN_CALL);
	char	   *name = string_value(require_key(v, path, "verb", "verb"), key_path(path, "verb"));
	const RuleVerb *verb = rule_find_verb(name);
	List	   *paths = NIL;
	RuleProblem problem;

	if (verb == NULL)
		json_error(key_path(path, "verb"), psprintf("unknown verb \"%s\"", name),
				   rule_unknown_verb_hint(name));
	check_depth(depth + 1, path);
	call->str = pstrdup(verb->name);
	call->args = json_node_list(v, path, "args", depth + 1, PLACE_ARGUMENT, RN_CALL, &paths);

	if (!rule_check_call(call, verb, &problem))
	{
		/* on failure the arguments are still in the order given */
		const char *where = path;
		ListCell   *lc;
		int			i = 0;

		foreach(lc, call->args)
		{
			if (lfirst(lc) == problem.node)
				where = list_nth(paths, i);
			i++;
		}
		json_error(where, problem.message, problem.hint);
	}
	if (verb->bare && call->args == NIL)
		call->kind = RN_NAME;
	return call;
}

static RuleNode *
json_to_node(const JsonbValue *v, const char *path, int depth, JsonPlace place)
{
	const NodeShape *shape;
	const char *k;
	RuleNode   *node;
	JsonbValue *child;

	check_stack_depth();
	shape = node_shape(v, path);
	k = shape->key;

	/* where the node stands limits what it may be */
	if (strcmp(k, "window") == 0 && place != PLACE_ARGUMENT)
		json_error(path, "a time window is only allowed as an argument of a behaviour verb", NULL);
	if (place == PLACE_LITERAL &&
		strcmp(k, "number") != 0 && strcmp(k, "string") != 0 &&
		strcmp(k, "date") != 0 && strcmp(k, "bool") != 0)
		json_error(path, psprintf("expected a literal (\"number\", \"string\", \"date\" or \"bool\"), found a node with key \"%s\"", k),
				   NULL);
	if (place == PLACE_OPERAND &&
		(strcmp(k, "and") == 0 || strcmp(k, "or") == 0 || strcmp(k, "not") == 0 ||
		 strcmp(k, "op") == 0 || strcmp(k, "in") == 0 || strcmp(k, "between") == 0 ||
		 strcmp(k, "like") == 0 || strcmp(k, "is_null") == 0))
		json_error(path, psprintf("expected an operand (a literal, a name or a verb call), found a node with key \"%s\"", k),
				   "Conditions cannot be compared.");

	if (strcmp(k, "and") == 0 || strcmp(k, "or") == 0)
	{
		RuleNodeKind kind = k[0] == 'a' ? RN_AND : RN_OR;
		List	   *items = json_node_list(v, path, k, depth, PLACE_CONDITION, kind, NULL);
		ListCell   *lc;

		child = get_key(v, k);
		if (!is_array(child) || list_length(items) < 2)
			json_error(key_path(path, k),
					   psprintf("\"%s\" needs an array of at least two conditions", k), NULL);
		node = make_node(kind);
		/* a AND (b AND c) is a AND b AND c, as the parser reads it */
		foreach(lc, items)
		{
			RuleNode   *item = lfirst(lc);

			if (item->kind == kind)
				node->args = list_concat(node->args, item->args);
			else
				node->args = lappend(node->args, item);
		}
		return node;
	}
	if (strcmp(k, "not") == 0)
	{
		char	   *cpath = key_path(path, "not");
		int			cdepth = depth + 1;

		check_depth(cdepth, path);
		child = get_key(v, "not");
		/* NOT (a AND b): the parentheses are a level too */
		if (is_object(child) && (get_key(child, "and") != NULL || get_key(child, "or") != NULL))
			check_depth(++cdepth, cpath);
		node = make_node(RN_NOT);
		node->left = json_to_node(child, cpath, cdepth, PLACE_CONDITION);
		return node;
	}
	if (strcmp(k, "op") == 0)
	{
		char	   *op = string_value(get_key(v, "op"), key_path(path, "op"));
		int			i;

		node = make_node(RN_CMP);
		for (i = CMP_EQ; i <= CMP_GE; i++)
			if (strcmp(op, rule_cmp_op_name((RuleCmpOp) i)) == 0)
				break;
		if (i > CMP_GE)
			json_error(key_path(path, "op"), psprintf("unknown operator \"%s\"", op),
					   "The operators are =, <>, <, <=, > and >=.");
		node->op = (RuleCmpOp) i;
		node->left = json_to_node(require_key(v, path, "left", "op"), key_path(path, "left"),
								  depth, PLACE_OPERAND);
		node->right = json_to_node(require_key(v, path, "right", "op"), key_path(path, "right"),
								   depth, PLACE_OPERAND);
		return node;
	}
	if (strcmp(k, "in") == 0)
	{
		node = make_node(RN_IN);
		node->left = json_to_node(get_key(v, "in"), key_path(path, "in"), depth, PLACE_OPERAND);
		require_key(v, path, "values", "in");
		node->args = json_node_list(v, path, "values", depth, PLACE_LITERAL, RN_IN, NULL);
		if (node->args == NIL)
			json_error(key_path(path, "values"), "\"values\" needs at least one literal", NULL);
		node->negated = bool_key(v, path, "negated");
		return node;
	}
	if (strcmp(k, "between") == 0)
	{
		node = make_node(RN_BETWEEN);
		node->left = json_to_node(get_key(v, "between"), key_path(path, "between"), depth,
								  PLACE_OPERAND);
		node->right = json_to_node(require_key(v, path, "low", "between"), key_path(path, "low"),
								   depth, PLACE_OPERAND);
		node->third = json_to_node(require_key(v, path, "high", "between"), key_path(path, "high"),
								   depth, PLACE_OPERAND);
		node->negated = bool_key(v, path, "negated");
		return node;
	}
	if (strcmp(k, "like") == 0)
	{
		node = make_node(RN_LIKE);
		node->left = json_to_node(get_key(v, "like"), key_path(path, "like"), depth, PLACE_OPERAND);
		node->right = make_node(RN_STRING);
		node->right->str = string_value(require_key(v, path, "pattern", "like"),
										key_path(path, "pattern"));
		node->ilike = bool_key(v, path, "ilike");
		node->negated = bool_key(v, path, "negated");
		return node;
	}
	if (strcmp(k, "is_null") == 0)
	{
		node = make_node(RN_ISNULL);
		node->left = json_to_node(get_key(v, "is_null"), key_path(path, "is_null"), depth,
								  PLACE_OPERAND);
		node->negated = bool_key(v, path, "negated");
		return node;
	}
	if (strcmp(k, "number") == 0)
	{
		char	   *text = string_value(get_key(v, "number"), key_path(path, "number"));

		node = make_node(RN_NUMBER);
		node->str = rule_normalize_number(text, strlen(text));
		if (node->str == NULL)
			json_error(key_path(path, "number"), psprintf("invalid number \"%s\"", text),
					   "Write numbers as strings of digits with an optional minus sign and decimal point, for example \"-12.5\".");
		return node;
	}
	if (strcmp(k, "string") == 0)
	{
		node = make_node(RN_STRING);
		node->str = string_value(get_key(v, "string"), key_path(path, "string"));
		return node;
	}
	if (strcmp(k, "date") == 0)
	{
		char	   *hint;

		node = make_node(RN_DATE);
		node->str = string_value(get_key(v, "date"), key_path(path, "date"));
		if (!rule_check_date(node->str, strlen(node->str), &hint))
			json_error(key_path(path, "date"), psprintf("invalid date \"%s\"", node->str), hint);
		return node;
	}
	if (strcmp(k, "bool") == 0)
	{
		child = get_key(v, "bool");
		if (child->type != jbvBool)
			json_error(key_path(path, "bool"),
					   psprintf("expected true or false, found %s", json_type_name(child)), NULL);
		node = make_node(RN_BOOL);
		node->bval = child->val.boolean;
		return node;
	}
	if (strcmp(k, "name") == 0)
	{
		node = make_node(RN_NAME);
		node->str = string_value(get_key(v, "name"), key_path(path, "name"));
		if (node->str[0] == '\0')
			json_error(key_path(path, "name"), "empty name", NULL);
		child = get_key(v, "field");
		if (child)
		{
			node->field = string_value(child, key_path(path, "field"));
			if (node->field[0] == '\0')
				json_error(key_path(path, "field"), "empty field name", NULL);
		}
		return node;
	}
	if (strcmp(k, "verb") == 0)
		return json_call(v, path, depth);
	return json_window(v, path);
}

/*
 * ast.h declares this with an incomplete struct Jsonb so that it need not
 * include jsonb.h; PostgreSQL's Jsonb is an anonymous struct, hence the cast.
 */
RuleNode *
rule_from_jsonb(struct Jsonb *arg)
{
	Jsonb	   *jb = (Jsonb *) arg;
	JsonbValue	root;

	if (JB_ROOT_IS_SCALAR(jb))
	{
		if (!JsonbExtractScalar(&jb->root, &root))
			elog(ERROR, "could not extract the scalar of a jsonb scalar");
	}
	else
	{
		root.type = jbvBinary;
		root.val.binary.data = &jb->root;
		root.val.binary.len = VARSIZE(jb) - VARHDRSZ;
	}
	return json_to_node(&root, "$", 0, PLACE_CONDITION);
}
