/* config_dump.c - writing the configuration: lc_config_dump (YAML) and lc_config_describe. */
#include "config_internal.h"

#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#define MASK "********"

/* ------------------------------------------------------------------------------------ */
/* The dump (effective configuration as YAML)                                             */

static const void *cfield_ptr(const lc_config_t *c, size_t off)
{
    return (const char *)c + off;
}

/* A YAML double-quoted string. */
static void put_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* A mapping key: plain when it is made of safe characters, else quoted. */
static void put_key(FILE *out, const char *s)
{
    bool plain = *s && isalnum((unsigned char)*s);
    for (const char *p = s; *p && plain; p++)
        plain = isalnum((unsigned char)*p) || strchr("._-/", *p);
    if (plain)
        fputs(s, out);
    else
        put_quoted(out, s);
}

static const char *enum_name(const key_def_t *k, int v)
{
    for (size_t i = 0; k->choices[i]; i++)
        if ((k->values ? k->values[i] : (int)i) == v)
            return k->choices[i];
    return "?";
}

static void dump_props(FILE *out, int indent, const lc_kafka_prop_t *kv, size_t n)
{
    if (n == 0) {
        fputs(" {}\n", out);
        return;
    }
    fputc('\n', out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%*s", indent + 2, "");
        put_key(out, kv[i].key);
        fputs(": ", out);
        put_quoted(out, lc_log_is_secret_name(kv[i].key) ? MASK : kv[i].value);
        fputc('\n', out);
    }
}

static void dump_field(FILE *out, const lc_field_def_t *f)
{
    fputs("  - name: ", out);
    put_quoted(out, f->name);
    fprintf(out, "\n    type: %s\n    required: %s\n", lc_schema_type_name(f->type),
            f->required ? "true" : "false");
    if (f->max_length >= 0)
        fprintf(out, "    max_length: %" PRId64 "\n", f->max_length);
    if (f->n_enum) {
        fputs("    enum: [", out);
        for (size_t j = 0; j < f->n_enum; j++) {
            fputs(j ? ", " : "", out);
            put_quoted(out, f->enum_values[j]);
        }
        fputs("]\n", out);
    }
    if (f->pattern) {
        fputs("    pattern: ", out);
        put_quoted(out, f->pattern);
        fputc('\n', out);
    }
}

static void dump_value(FILE *out, const lc_config_t *c, const key_def_t *k, int indent)
{
    const void *p = cfield_ptr(c, k->off);
    switch (k->kind) {
    case K_STRING: {
        const char *s = *(const char *const *)p;
        fputc(' ', out);
        put_quoted(out, (k->flags & F_SECRET) && *s ? MASK : s);
        break;
    }
    case K_INT: fprintf(out, " %d", *(const int *)p); break;
    case K_SIZE: fprintf(out, " %zu", *(const size_t *)p); break;
    case K_BOOL: fputs(*(const bool *)p ? " true" : " false", out); break;
    case K_ENUM:
        fprintf(out, " %s", enum_name(k, *(const int *)p));
        break;
    case K_PROPS:
        dump_props(out, indent, *(const lc_kafka_prop_t *const *)p,
                   *(const size_t *)cfield_ptr(c, k->count_off));
        return;
    case K_SCHEMA:
        fputc('\n', out);
        for (size_t i = 0; i < c->nfields; i++)
            dump_field(out, &c->fields[i]);
        return;
    case K_SECTION:   /* lc_config_dump writes sections */
        break;
    }
    fputc('\n', out);
}

/* Prints the section headers of `cur` that `prev` has not opened; returns the depth. */
static int open_sections(FILE *out, const char *prev, const char *cur)
{
    int depth = 0;
    bool same = *prev != '\0';
    const char *a = prev;
    for (const char *b = cur, *bd; (bd = strchr(b, '.')); b = bd + 1, depth++) {
        size_t bl = (size_t)(bd - b);
        const char *ad = same ? strchr(a, '.') : NULL;
        if (same && ad && (size_t)(ad - a) == bl && memcmp(a, b, bl) == 0) {
            a = ad + 1;
            continue;
        }
        same = false;
        fprintf(out, "%*s%.*s:\n", 2 * depth, "", (int)bl, b);
    }
    return depth;
}

static bool same_top(const char *a, const char *b)
{
    size_t la = strcspn(a, "."), lb = strcspn(b, ".");
    return la == lb && memcmp(a, b, la) == 0;
}

void lc_config_dump(const lc_config_t *c, FILE *out)
{
    const char *prev = "";
    for (size_t i = 0; i < lc_config_nkeys; i++) {
        const key_def_t *k = &lc_config_keys[i];
        if (*prev && !same_top(prev, k->name))
            fputc('\n', out);
        int depth = open_sections(out, prev, k->name);
        const char *leaf = strrchr(k->name, '.');
        leaf = leaf ? leaf + 1 : k->name;
        if (k->kind == K_SECTION) {
            /* a section that is there opens with its first key; one that is not is a
             * comment (an empty mapping would turn it on) */
            if (!*(const bool *)cfield_ptr(c, k->off)) {
                fprintf(out, "%*s# %s: not set\n", 2 * depth, "", leaf);
                prev = k->name;
                i = lc_config_section_end(i) - 1;
            }
            continue;
        }
        prev = k->name;
        if ((k->flags & F_SECRET) && *c->password_file) {
            fprintf(out, "%*s# %s: read from mysql.password_file\n", 2 * depth, "", leaf);
            continue;
        }
        fprintf(out, "%*s%s:", 2 * depth, "", leaf);
        dump_value(out, c, k, 2 * depth);
    }
}

/* ------------------------------------------------------------------------------------ */
/* The description (--help, README)                                                      */

static void type_text(const key_def_t *k, char *buf, size_t n)
{
    char list[256];
    switch (k->kind) {
    case K_STRING:
        snprintf(buf, n, "%s", k->flags & F_IDENT ? "identifier"
                               : k->flags & F_HOSTPORT ? "host:port" : "string");
        break;
    case K_INT:
    case K_SIZE: snprintf(buf, n, "integer %lld..%lld", k->min, k->max); break;
    case K_BOOL: snprintf(buf, n, "boolean"); break;
    case K_ENUM:
        lc_config_join_choices(k->choices, list, sizeof(list));
        snprintf(buf, n, "one of %s", list);
        break;
    case K_PROPS: snprintf(buf, n, "map of strings"); break;
    case K_SCHEMA: snprintf(buf, n, "list of fields"); break;
    case K_SECTION: snprintf(buf, n, "section"); break;
    }
}

static void default_text(const key_def_t *k, char *buf, size_t n)
{
    if (k->kind == K_SECTION)
        snprintf(buf, n, "absent");
    else if (k->kind == K_PROPS)
        snprintf(buf, n, "{}");
    else if (k->kind == K_SCHEMA)
        snprintf(buf, n, "CONTRACT section 3");
    else if (k->kind == K_STRING)
        snprintf(buf, n, "\"%s\"", k->def);
    else
        snprintf(buf, n, "%s", k->def);
}

/* Markdown table cell: '|' would end the cell. */
static void put_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', out);
        fputc(*s, out);
    }
}

/* def: NULL for a required attribute, "" when there is no default. */
static void describe_row(FILE *out, bool md, const char *name, const char *type,
                         const char *def, const char *desc)
{
    if (!md) {
        fprintf(out, "  %-28s %s%s%s%s\n      %s\n", name, type,
                !def ? ", required" : *def ? " (default " : "", def ? def : "",
                def && *def ? ")" : "", desc);
        return;
    }
    fprintf(out, "| `%s` | ", name);
    put_cell(out, type);
    fputs(" | ", out);
    if (!def || *def) {
        fputs(def ? "`" : "", out);
        put_cell(out, def ? def : "required");
        fputs(def ? "`" : "", out);
    }
    fputs(" | ", out);
    put_cell(out, desc);
    fputs(" |\n", out);
}

void lc_config_describe(FILE *out, bool markdown)
{
    char type[320], def[128];
    if (markdown)
        fputs("| key | type | default | description |\n|---|---|---|---|\n", out);
    for (size_t i = 0; i < lc_config_nkeys; i++) {
        type_text(&lc_config_keys[i], type, sizeof(type));
        default_text(&lc_config_keys[i], def, sizeof(def));
        bool required = lc_config_keys[i].flags & F_REQUIRED;
        describe_row(out, markdown, lc_config_keys[i].name, type, required ? NULL : def,
                     lc_config_keys[i].desc);
    }
    for (size_t i = 0; i < CFG_NATTRS; i++) {
        char name[64];
        snprintf(name, sizeof(name), "schema[].%s", lc_config_schema_attrs[i].name);
        const attr_def_t *a = &lc_config_schema_attrs[i];
        describe_row(out, markdown, name, a->type, a->def, a->desc);
    }
}
