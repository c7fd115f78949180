/*
 * config_internal.h - private to the configuration module, shared only by config.c (the
 * table of keys, values, loading), config_yaml.c (the YAML document and its walk),
 * config_schema.c (the `schema:` section), config_rules.c (the rules across keys) and
 * config_dump.c (lc_config_dump, lc_config_describe): the table's types, the parse context,
 * and the few helpers that cross those files. The public interface is include/lc_config.h.
 */
#ifndef LC_CONFIG_INTERNAL_H
#define LC_CONFIG_INTERNAL_H

#include "lc_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ---- config.c: the table of keys --------------------------------------------------- */

typedef enum key_kind {
    K_STRING,   /* const char * (owned by the configuration) */
    K_INT,      /* int, min..max */
    K_SIZE,     /* size_t, min..max */
    K_BOOL,     /* bool */
    K_ENUM,     /* one of choices, stored as an int enum: values[i], or i without values */
    K_PROPS,    /* const lc_kafka_prop_t * + size_t count: librdkafka properties */
    K_SCHEMA,   /* lc_field_def_t * + size_t count */
    K_SECTION,  /* bool: true when the section (a mapping of the keys below it) or any key
                 * below it is in the file; the keys below it follow its row */
} key_kind_t;

enum key_flags {
    F_SECRET = 1u << 0,     /* masked in dumps, never echoed */
    F_NONEMPTY = 1u << 1,   /* "" is refused */
    F_IDENT = 1u << 2,      /* [A-Za-z0-9_]+, at most 64 characters (SQL identifiers) */
    F_HOSTPORT = 1u << 3,   /* "" or host:port */
    F_REQUIRED = 1u << 4,   /* must be set when its section is there (a rule checks it) */
};

typedef struct key_def {
    const char *name;            /* dotted name */
    key_kind_t kind;
    const char *def;             /* default, written as in the file (NULL for PROPS/SCHEMA) */
    long long min, max;          /* K_INT, K_SIZE */
    const char *const *choices;  /* K_ENUM, NULL-terminated */
    const int *values;           /* K_ENUM: the int stored for choices[i]; NULL: i */
    unsigned flags;
    size_t off;                  /* offsetof the value in lc_config_t */
    size_t count_off;            /* K_PROPS, K_SCHEMA: offsetof the element count */
    const char *desc;            /* one line */
} key_def_t;

/* Every configuration key, in dump order, and how many (config.c). */
extern const key_def_t lc_config_keys[];
extern const size_t lc_config_nkeys;

/* For the K_SECTION row i: the index after the keys below it (they follow its row). */
size_t lc_config_section_end(size_t i);

/* ---- config.c: the parse context and its helpers ----------------------------------- */

typedef struct ctx {
    yaml_document_t *doc;
    const char *name;          /* file name for messages */
    lc_config_t *c;
    int *set_line;             /* line that set each key (lc_config_nkeys); 0 = default */
    char *errstr;
    size_t errlen;
} ctx_t;

static inline yaml_node_t *node_at(const ctx_t *x, int id)
{
    return yaml_document_get_node(x->doc, id);
}

static inline int line_of(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

static inline const char *text_of(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* Writes "FILE:LINE: message" (or "FILE: message" when line is 0) and returns -1. */
int lc_config_fail(ctx_t *x, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The line that set the key `name`; 0 when it has its default. For a section, the line
 * that opened it (or of its first key given in dotted form). */
int lc_config_key_line(const ctx_t *x, const char *name);

/* Joins a NULL-terminated list with ", ". */
void lc_config_join_choices(const char *const *ch, char *buf, size_t n);

/* A configuration integer: an optional sign ('+' too), any number of digits (leading zeros
 * too), nothing else; converted by lc_text_parse_int64. 0 ok, -1 not an integer, 1 does
 * not fit in a long long. */
int lc_config_parse_ll(const char *s, long long *out);

/* true/yes/on or false/no/off, in any case, into *out: 0; anything else: -1. */
int lc_config_parse_bool(const char *s, bool *out);

/* Reads a whole file (at most max bytes) into a NUL-terminated buffer (*out, the caller
 * frees it; *len excludes the NUL). Returns 0, or an errno value (EFBIG when too large). */
int lc_config_read_file(const char *path, size_t max, char **out, size_t *len);

/* The key of the table named `name`, or NULL. */
const key_def_t *lc_config_find_key(const char *name);

/* Sets a scalar key from its text (a default, or a file value at `line`); v is copied. */
int lc_config_set_scalar(ctx_t *x, const key_def_t *k, const char *v, int line);

/* Adds the pass-through property `pkey` (kn: its key node) of the map k (kafka.consumer or
 * kafka.producer); its value vn must be a scalar. */
int lc_config_add_prop(ctx_t *x, const key_def_t *k, const char *pkey, const yaml_node_t *kn,
                       const yaml_node_t *vn);

/* ---- config_yaml.c: the YAML document ---------------------------------------------- */

/* Parses the one YAML document in yaml[0..len) into x->c: every key through the table. */
int lc_config_yaml_parse(ctx_t *x, const char *yaml, size_t len);

/* "a scalar", "a mapping", "a list" or "nothing" (YAML null), for messages. */
const char *lc_config_yaml_kind_word(const yaml_node_t *n);

/* Reads a scalar value (env-expanded; YAML null reads as "") into *out (caller frees).
 * kline: the key's line, named when the value is not a scalar. */
int lc_config_yaml_scalar(ctx_t *x, const char *label, const yaml_node_t *vn, int kline,
                          char **out);

/* Checks that the key of pairs[idx] is a scalar not given earlier in the same mapping. */
int lc_config_yaml_check_key(ctx_t *x, const yaml_node_t *map, const yaml_node_pair_t *pr,
                             const char *prefix);

/* ---- config_schema.c: the `schema:` section ---------------------------------------- */

/* Attributes of one schema field. */
typedef enum attr_id { A_NAME, A_TYPE, A_REQUIRED, A_MAX_LENGTH, A_ENUM, A_PATTERN } attr_id_t;
#define CFG_NATTRS (A_PATTERN + 1)

typedef struct attr_def {
    const char *name;
    const char *type;
    const char *def;    /* NULL: required; "": no default */
    const char *desc;
} attr_def_t;

/* The attributes, indexed by attr_id_t; lc_config_describe lists them after the keys. */
extern const attr_def_t lc_config_schema_attrs[];

/* Reads the `schema` list vn (kline: the key's line) into x->c->fields. */
int lc_config_schema_parse(ctx_t *x, int kline, const yaml_node_t *vn);

/* Sets c->fields to the default schema (CONTRACT §3). */
void lc_config_schema_default(lc_config_t *c);

/* Frees n field definitions as lc_config_schema_parse or lc_config_schema_default made them. */
void lc_config_schema_free_fields(lc_field_def_t *f, size_t n);

/* Compiles x->c->fields into x->c->schema; an error names the line of the field at fault. */
int lc_config_schema_compile(ctx_t *x);

/* ---- config_rules.c: the rules across keys ------------------------------------------ */

/* Runs every rule across keys (validation hooks) on the loaded values: the first broken
 * one fails with the line of the key it names. The schema is compiled by then. */
int lc_config_rules_check(ctx_t *x);

#endif
