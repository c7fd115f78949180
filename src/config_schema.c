/* config_schema.c - the `schema:` section: field attributes, the default schema, compiling. */
#include "config_internal.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------ */
/* The schema                                                                             */

const attr_def_t lc_config_schema_attrs[] = {
    [A_NAME] = {"name", "string", NULL, "Member name in the record."},
    [A_TYPE] = {"type", "string, integer, number, boolean or timestamp", NULL,
                "Accepted values (CONTRACT section 3)."},
    [A_REQUIRED] = {"required", "boolean", "true", "An absent optional field is not checked."},
    [A_MAX_LENGTH] = {"max_length", "integer >= 0", "",
                      "Longest string, in Unicode code points."},
    [A_ENUM] = {"enum", "list of strings", "", "Allowed values (exact match)."},
    [A_PATTERN] = {"pattern", "string", "",
                   "POSIX extended regex the whole value must match."},
};

_Static_assert(LC_ARRAY_SIZE(lc_config_schema_attrs) == CFG_NATTRS,
               "one lc_config_schema_attrs[] entry per attr_id_t");

/* The default schema (CONTRACT §3): every field required. */
static const struct {
    const char *name;
    lc_field_type_t type;
} default_fields[] = {
    {"event_id", LC_FT_STRING},       {"account_id", LC_FT_INTEGER},
    {"event_type", LC_FT_STRING},     {"device", LC_FT_STRING},
    {"location_country", LC_FT_STRING}, {"event_timestamp", LC_FT_TIMESTAMP},
};

static int find_attr(const char *name)
{
    for (size_t i = 0; i < LC_ARRAY_SIZE(lc_config_schema_attrs); i++)
        if (strcmp(lc_config_schema_attrs[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int parse_enum(ctx_t *x, const char *label, int kline, const yaml_node_t *vn,
                      lc_field_def_t *f)
{
    if (vn->type != YAML_SEQUENCE_NODE)
        return lc_config_fail(x, kline, "%s: expected a list of values, got %s", label,
                              lc_config_yaml_kind_word(vn));
    size_t n = (size_t)(vn->data.sequence.items.top - vn->data.sequence.items.start);
    if (n == 0)
        return lc_config_fail(x, kline, "%s: the list must not be empty", label);
    char **vals = lc_xcalloc(n, sizeof(*vals));
    f->enum_values = (const char *const *)vals;
    for (size_t j = 0; j < n; j++) {
        char item[192];
        snprintf(item, sizeof(item), "%s[%zu]", label, j);
        if (lc_config_yaml_scalar(x, item, node_at(x, vn->data.sequence.items.start[j]), kline,
                                   &vals[j]) < 0)
            return -1;
        f->n_enum = j + 1;
    }
    return 0;
}

static int set_field_type(ctx_t *x, const char *label, const char *v, int line,
                          lc_field_def_t *f)
{
    if (lc_schema_type_parse(v, &f->type) == 0)
        return 0;
    const char *names[LC_FT_TIMESTAMP + 2];
    for (int t = 0; t <= LC_FT_TIMESTAMP; t++)
        names[t] = lc_schema_type_name((lc_field_type_t)t);
    names[LC_FT_TIMESTAMP + 1] = NULL;
    char list[128];
    lc_config_join_choices(names, list, sizeof(list));
    return lc_config_fail(x, line, "%s: expected one of %s, got '%s'", label, list, v);
}

/* Sets one scalar attribute from its text; takes ownership of v. */
static int set_attr(ctx_t *x, const char *label, attr_id_t a, char *v, int line,
                    lc_field_def_t *f)
{
    long long n = 0;
    int rc = 0;
    if ((a == A_NAME || a == A_PATTERN) && !*v) {
        rc = lc_config_fail(x, line, "%s: must not be empty", label);
    } else if (a == A_NAME) {
        f->name = v;
        return 0;
    } else if (a == A_PATTERN) {
        f->pattern = v;
        return 0;
    } else if (a == A_TYPE) {
        rc = set_field_type(x, label, v, line, f);
    } else if (a == A_REQUIRED) {
        if (lc_config_parse_bool(v, &f->required) < 0)
            rc = lc_config_fail(x, line, "%s: expected true or false, got '%s'", label, v);
    } else if (a == A_MAX_LENGTH) {
        int r = lc_config_parse_ll(v, &n);
        if (r < 0)
            rc = lc_config_fail(x, line, "%s: expected an integer, got '%s'", label, v);
        else if (r > 0 || n < 0)
            rc = lc_config_fail(x, line, "%s: %s is out of range (0..%" PRId64 ")", label, v,
                                INT64_MAX);
        else
            f->max_length = n;
    }
    free(v);
    return rc;
}

static int parse_field_pair(ctx_t *x, size_t i, const yaml_node_t *item,
                            const yaml_node_pair_t *pr, lc_field_def_t *f, unsigned *seen)
{
    char prefix[48], label[160];
    snprintf(prefix, sizeof(prefix), "schema[%zu]", i);
    if (lc_config_yaml_check_key(x, item, pr, prefix) < 0)
        return -1;
    const yaml_node_t *kn = node_at(x, pr->key), *vn = node_at(x, pr->value);
    snprintf(label, sizeof(label), "%s.%s", prefix, text_of(kn));
    int a = find_attr(text_of(kn));
    if (a < 0)
        return lc_config_fail(x, line_of(kn),
                              "unknown key '%s' (field keys: name, type, required, max_length, "
                              "enum, pattern)", label);
    *seen |= 1u << a;
    if (a == A_ENUM)
        return parse_enum(x, label, line_of(kn), vn, f);
    char *v;
    if (lc_config_yaml_scalar(x, label, vn, line_of(kn), &v) < 0)
        return -1;
    return set_attr(x, label, (attr_id_t)a, v, line_of(vn), f);
}

static int parse_field(ctx_t *x, size_t i, const yaml_node_t *item, lc_field_def_t *f)
{
    f->required = true;
    f->max_length = -1;
    f->line = line_of(item);
    if (item->type != YAML_MAPPING_NODE)
        return lc_config_fail(x, line_of(item),
                              "schema[%zu]: expected a mapping (name, type, ...), got %s", i,
                              lc_config_yaml_kind_word(item));
    unsigned seen = 0;
    for (yaml_node_pair_t *pr = item->data.mapping.pairs.start;
         pr < item->data.mapping.pairs.top; pr++)
        if (parse_field_pair(x, i, item, pr, f, &seen) < 0)
            return -1;
    if (!(seen & (1u << A_NAME)))
        return lc_config_fail(x, line_of(item), "schema[%zu]: missing 'name'", i);
    if (!(seen & (1u << A_TYPE)))
        return lc_config_fail(x, line_of(item), "schema[%zu] (%s): missing 'type'", i, f->name);
    return 0;
}

int lc_config_schema_parse(ctx_t *x, int kline, const yaml_node_t *vn)
{
    lc_config_t *c = x->c;
    if (vn->type != YAML_SEQUENCE_NODE)
        return lc_config_fail(x, kline, "schema: expected a list of fields, got %s",
                              lc_config_yaml_kind_word(vn));
    size_t n = (size_t)(vn->data.sequence.items.top - vn->data.sequence.items.start);
    c->fields = lc_xcalloc(n, sizeof(*c->fields));
    c->nfields = 0;
    for (size_t i = 0; i < n; i++) {
        lc_field_def_t *f = &c->fields[c->nfields++];
        if (parse_field(x, i, node_at(x, vn->data.sequence.items.start[i]), f) < 0)
            return -1;
    }
    return 0;
}

void lc_config_schema_default(lc_config_t *c)
{
    size_t n = LC_ARRAY_SIZE(default_fields);
    c->fields = lc_xcalloc(n, sizeof(*c->fields));
    for (size_t i = 0; i < n; i++) {
        c->fields[i] = (lc_field_def_t){.name = lc_xstrdup(default_fields[i].name),
                                        .type = default_fields[i].type,
                                        .required = true,
                                        .max_length = -1};
    }
    c->nfields = n;
}

void lc_config_schema_free_fields(lc_field_def_t *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)f[i].name);
        free((char *)f[i].pattern);
        for (size_t j = 0; j < f[i].n_enum; j++)
            free((char *)f[i].enum_values[j]);
        free((char **)f[i].enum_values);
    }
    free(f);
}

int lc_config_schema_compile(ctx_t *x)
{
    char msg[512];
    size_t bad = 0;
    x->c->schema = lc_schema_new(x->c->fields, x->c->nfields, &bad, msg, sizeof(msg));
    if (x->c->schema)
        return 0;
    return lc_config_fail(x, x->c->fields[bad].line, "%s", msg);
}
