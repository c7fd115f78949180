/*
 * config_yaml.c - reading the configuration's YAML with libyaml's document API, so every
 * node keeps its line. The tree is walked with dotted names; YAML nesting and dots in a key
 * are the same thing ("batch: {max_records: 1}" == "batch.max_records: 1"). Each name is
 * looked up in lc_config_keys[]: a proper prefix of table names is a section (a mapping), a
 * name in the table is a value (handed to lc_config_set_scalar, lc_config_add_prop, or the
 * `schema` list to config_schema.c), anything else is an unknown key. Scalars may hold
 * ${NAME} or ${NAME:-default} from the environment.
 */
#include "config_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------ */
/* YAML nodes                                                                             */

static bool is_null(const yaml_node_t *n);

const char *lc_config_yaml_kind_word(const yaml_node_t *n)
{
    if (is_null(n))
        return "nothing";
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    default: return "nothing";
    }
}

/* A plain empty, "~" or "null" scalar: YAML's null. */
static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = text_of(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
           !strcmp(s, "NULL");
}

/* ------------------------------------------------------------------------------------ */
/* Environment substitution: ${NAME} and ${NAME:-default}                                 */

static bool is_env_name(const char *s, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

/* Appends the value of one reference; `in` .. `end` is what stands between "${" and "}". */
static int subst_one(ctx_t *x, const char *label, int line, const char *in, const char *end,
                     lc_buf_t *b)
{
    const char *sep = NULL;
    for (const char *p = in; p + 1 < end; p++) {
        if (p[0] == ':' && p[1] == '-') {
            sep = p;
            break;
        }
    }
    size_t nlen = (size_t)((sep ? sep : end) - in);
    if (!is_env_name(in, nlen))
        return lc_config_fail(x, line,
                              "%s: bad variable reference (write ${NAME} or ${NAME:-default})",
                              label);
    char name[256];
    if (nlen >= sizeof(name))
        return lc_config_fail(x, line, "%s: variable name too long", label);
    memcpy(name, in, nlen);
    name[nlen] = '\0';
    const char *val = getenv(name);
    if (sep && (!val || !*val)) {
        lc_buf_append(b, sep + 2, (size_t)(end - sep - 2));
        return 0;
    }
    if (!val)
        return lc_config_fail(x, line, "%s: ${%s} is not set", label, name);
    lc_buf_puts(b, val);
    return 0;
}

/* Expands every reference in s into a new string (*out, caller frees). "$" not followed by
 * "{" is literal, so "$$" is two dollars. The result is not expanded again. */
static int expand_env(ctx_t *x, const char *label, const char *s, int line, char **out)
{
    lc_buf_t b = {0};
    const char *p = s;
    for (;;) {
        const char *d = strstr(p, "${");
        if (!d) {
            lc_buf_puts(&b, p);
            break;
        }
        lc_buf_append(&b, p, (size_t)(d - p));
        const char *end = strchr(d + 2, '}');
        if (!end) {
            lc_buf_free(&b);
            return lc_config_fail(x, line,
                                  "%s: unterminated '${' (write ${NAME} or ${NAME:-default})",
                                  label);
        }
        if (subst_one(x, label, line, d + 2, end, &b) < 0) {
            lc_buf_free(&b);
            return -1;
        }
        p = end + 1;
    }
    lc_buf_putc(&b, '\0');
    *out = b.data;
    return 0;
}

int lc_config_yaml_scalar(ctx_t *x, const char *label, const yaml_node_t *vn, int kline,
                           char **out)
{
    if (vn->type != YAML_SCALAR_NODE)
        return lc_config_fail(x, kline, "%s: expected a single value, got %s", label,
                              lc_config_yaml_kind_word(vn));
    if (is_null(vn)) {
        *out = lc_xstrdup("");
        return 0;
    }
    if (strlen(text_of(vn)) != vn->data.scalar.length)
        return lc_config_fail(x, line_of(vn), "%s: the value contains a NUL character", label);
    return expand_env(x, label, text_of(vn), line_of(vn), out);
}

/* ------------------------------------------------------------------------------------ */
/* Walking mappings                                                                       */

int lc_config_yaml_check_key(ctx_t *x, const yaml_node_t *map, const yaml_node_pair_t *pr,
                        const char *prefix)
{
    const yaml_node_t *kn = node_at(x, pr->key);
    if (kn->type != YAML_SCALAR_NODE)
        return lc_config_fail(x, line_of(kn), "%s%skeys must be scalars, got %s", prefix,
                              *prefix ? ": " : "", lc_config_yaml_kind_word(kn));
    for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pr; q++) {
        const yaml_node_t *qn = node_at(x, q->key);
        if (qn->type == YAML_SCALAR_NODE && strcmp(text_of(qn), text_of(kn)) == 0)
            return lc_config_fail(x, line_of(kn), "duplicate key '%s%s%s' (first at line %d)",
                                  prefix, *prefix ? "." : "", text_of(kn), line_of(qn));
    }
    return 0;
}

/* True when some key is below `full` ("" is the top level). */
static bool is_section(const char *full)
{
    size_t n = strlen(full);
    if (n == 0)
        return true;
    for (size_t i = 0; i < lc_config_nkeys; i++)
        if (strncmp(lc_config_keys[i].name, full, n) == 0 && lc_config_keys[i].name[n] == '.')
            return true;
    return false;
}

/* The pass-through map that `full` is a property of ("kafka.consumer.x.y"), or NULL. */
static const key_def_t *props_parent(const char *full)
{
    for (size_t i = 0; i < lc_config_nkeys; i++) {
        size_t n = strlen(lc_config_keys[i].name);
        if (lc_config_keys[i].kind == K_PROPS && strncmp(full, lc_config_keys[i].name, n) == 0 &&
            full[n] == '.')
            return &lc_config_keys[i];
    }
    return NULL;
}

/* Lists the names directly below `section` ("" = top level) into buf. */
static void child_names(const char *section, char *buf, size_t size)
{
    size_t n = strlen(section), used = 0;
    const char *last = NULL;
    size_t last_len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < lc_config_nkeys && used < size; i++) {
        const char *name = lc_config_keys[i].name;
        if (n && (strncmp(name, section, n) != 0 || name[n] != '.'))
            continue;
        const char *child = n ? name + n + 1 : name;
        size_t len = strcspn(child, ".");
        if (last && len == last_len && memcmp(child, last, len) == 0)
            continue;
        int w = snprintf(buf + used, size - used, "%s%.*s", used ? ", " : "", (int)len, child);
        if (w < 0)
            break;
        used += (size_t)w;
        last = child;
        last_len = len;
    }
}

static int unknown_key(ctx_t *x, const char *full, int line)
{
    char section[256], names[512];
    snprintf(section, sizeof(section), "%s", full);
    do {
        char *dot = strrchr(section, '.');
        if (dot)
            *dot = '\0';
        else
            section[0] = '\0';
    } while (!is_section(section));
    child_names(section, names, sizeof(names));
    if (section[0])
        return lc_config_fail(x, line, "unknown key '%s' (%s has: %s)", full, section, names);
    return lc_config_fail(x, line, "unknown key '%s' (top-level keys: %s)", full, names);
}

static int walk_map(ctx_t *x, const yaml_node_t *map, const char *prefix);

static int walk_props(ctx_t *x, const key_def_t *k, const yaml_node_t *kn,
                      const yaml_node_t *vn)
{
    if (is_null(vn))
        return 0;
    if (vn->type != YAML_MAPPING_NODE)
        return lc_config_fail(x, line_of(kn),
                              "%s: expected a mapping of librdkafka properties, got %s", k->name,
                              lc_config_yaml_kind_word(vn));
    for (yaml_node_pair_t *pr = vn->data.mapping.pairs.start; pr < vn->data.mapping.pairs.top;
         pr++) {
        if (lc_config_yaml_check_key(x, vn, pr, k->name) < 0)
            return -1;
        const yaml_node_t *pk = node_at(x, pr->key);
        if (lc_config_add_prop(x, k, text_of(pk), pk, node_at(x, pr->value)) < 0)
            return -1;
    }
    return 0;
}

/* A section of the table (K_SECTION): its keys are walked. Being set (set_entry) makes it
 * there, even when empty (config.c's mark_sections). */
static int walk_section(ctx_t *x, const key_def_t *k, const yaml_node_t *kn,
                        const yaml_node_t *vn)
{
    if (is_null(vn))
        return 0;
    if (vn->type != YAML_MAPPING_NODE)
        return lc_config_fail(x, line_of(kn), "%s: expected a mapping, got %s", k->name,
                              lc_config_yaml_kind_word(vn));
    return walk_map(x, vn, k->name);
}

/* A key of the table: records where it was set, then reads its value. */
static int set_entry(ctx_t *x, const key_def_t *k, const yaml_node_t *kn, const yaml_node_t *vn)
{
    size_t idx = (size_t)(k - lc_config_keys);
    if (x->set_line[idx])
        return lc_config_fail(x, line_of(kn), "duplicate key '%s' (first at line %d)", k->name,
                              x->set_line[idx]);
    x->set_line[idx] = line_of(kn);
    if (k->kind == K_SECTION)
        return walk_section(x, k, kn, vn);
    if (k->kind == K_PROPS)
        return walk_props(x, k, kn, vn);
    if (k->kind == K_SCHEMA)
        return lc_config_schema_parse(x, line_of(kn), vn);
    char *v;
    if (lc_config_yaml_scalar(x, k->name, vn, line_of(kn), &v) < 0)
        return -1;
    int rc = lc_config_set_scalar(x, k, v, line_of(vn));
    free(v);
    return rc;
}

static int walk_entry(ctx_t *x, const char *full, const yaml_node_t *kn, const yaml_node_t *vn)
{
    const key_def_t *k = lc_config_find_key(full);
    if (k)
        return set_entry(x, k, kn, vn);
    k = props_parent(full);
    if (k)
        return lc_config_add_prop(x, k, full + strlen(k->name) + 1, kn, vn);
    if (!is_section(full))
        return unknown_key(x, full, line_of(kn));
    if (is_null(vn))
        return 0;
    if (vn->type != YAML_MAPPING_NODE)
        return lc_config_fail(x, line_of(kn), "%s: expected a mapping, got %s", full,
                              lc_config_yaml_kind_word(vn));
    return walk_map(x, vn, full);
}

/* Walks one mapping whose keys are below `prefix` ("" = top level). Recursion is bounded:
 * it only goes into names that are sections of the table. */
static int walk_map(ctx_t *x, const yaml_node_t *map, const char *prefix)
{
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        if (lc_config_yaml_check_key(x, map, pr, prefix) < 0)
            return -1;
        const yaml_node_t *kn = node_at(x, pr->key);
        char full[256];
        int w = snprintf(full, sizeof(full), "%s%s%s", prefix, *prefix ? "." : "", text_of(kn));
        if (w < 0 || (size_t)w >= sizeof(full))
            return lc_config_fail(x, line_of(kn), "unknown key '%s%s%.64s...'", prefix,
                                  *prefix ? "." : "", text_of(kn));
        if (walk_entry(x, full, kn, node_at(x, pr->value)) < 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* The document                                                                           */

static int line_at_offset(const char *s, size_t len, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off && i < len; i++)
        if (s[i] == '\n')
            line++;
    return line;
}

static int syntax_error(ctx_t *x, const yaml_parser_t *p, const char *yaml, size_t len)
{
    if (p->error == YAML_MEMORY_ERROR)
        lc_oom();
    if (p->error == YAML_READER_ERROR)
        return lc_config_fail(x, line_at_offset(yaml, len, p->problem_offset), "YAML error: %s",
                              p->problem ? p->problem : "cannot read the input");
    int line = (int)p->problem_mark.line + 1;
    if (p->context)
        return lc_config_fail(x, line, "YAML syntax error: %s %s (started at line %d)",
                              p->problem ? p->problem : "error", p->context,
                              (int)p->context_mark.line + 1);
    return lc_config_fail(x, line, "YAML syntax error: %s", p->problem ? p->problem : "error");
}

static int walk_root(ctx_t *x)
{
    const yaml_node_t *root = yaml_document_get_root_node(x->doc);
    if (!root || is_null(root))
        return 0;
    if (root->type != YAML_MAPPING_NODE)
        return lc_config_fail(x, line_of(root), "the top level must be a mapping of keys, got %s",
                              lc_config_yaml_kind_word(root));
    return walk_map(x, root, "");
}

int lc_config_yaml_parse(ctx_t *x, const char *yaml, size_t len)
{
    yaml_parser_t p;
    yaml_document_t doc;
    int rc = -1;
    if (!yaml_parser_initialize(&p))
        lc_oom();   /* libyaml's only failure here */
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&p, &doc)) {
        rc = syntax_error(x, &p, yaml, len);
        goto out;
    }
    x->doc = &doc;
    rc = walk_root(x);
    x->doc = NULL;
    yaml_document_delete(&doc);
    if (rc < 0)
        goto out;
    if (!yaml_parser_load(&p, &doc)) {
        rc = syntax_error(x, &p, yaml, len);
        goto out;
    }
    const yaml_node_t *second = yaml_document_get_root_node(&doc);
    if (second)
        rc = lc_config_fail(x, line_of(second), "only one YAML document is allowed");
    yaml_document_delete(&doc);
out:
    yaml_parser_delete(&p);
    return rc;
}

