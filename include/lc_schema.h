/*
 * lc_schema.h - the record schema: fields, their types and constraints (CONTRACT §2.1, §3),
 * and the names of every reason code it can produce (bounded: they come from the schema,
 * never from record data, so they can label metrics).
 */
#ifndef LC_SCHEMA_H
#define LC_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lc_text.h"

typedef enum lc_field_type {
    LC_FT_STRING = 0,
    LC_FT_INTEGER,
    LC_FT_NUMBER,
    LC_FT_BOOLEAN,
    LC_FT_TIMESTAMP,
} lc_field_type_t;

/* Plain description of one field, as read from the configuration (owned by the config). */
typedef struct lc_field_def {
    const char *name;
    lc_field_type_t type;
    bool required;            /* default true; an absent optional field is not checked */
    int64_t max_length;       /* -1: no limit. Counted in Unicode code points. */
    const char *const *enum_values; /* NULL or array of n_enum strings */
    size_t n_enum;
    const char *pattern;      /* NULL or a POSIX extended regex matched against the whole value */
    int line;                 /* line in the configuration file, for error messages */
} lc_field_def_t;

/* Every reason code. Document-level and users reasons have no field; field reasons do. */
typedef enum lc_reason_kind {
    LC_R_TOO_LARGE = 0,
    LC_R_INVALID_JSON,
    LC_R_NOT_OBJECT,
    LC_R_DUPLICATE_KEY,
    LC_R_MISSING,
    LC_R_NULL,
    LC_R_TYPE,
    LC_R_EMPTY,
    LC_R_LENGTH,
    LC_R_ENUM,
    LC_R_PATTERN,
    LC_R_UNKNOWN_ACCOUNT,
    LC_R_DEVICE_MISMATCH,
    LC_R__COUNT
} lc_reason_kind_t;

typedef struct lc_schema lc_schema_t;

/* Compiles the field definitions (copies what it needs; defs may be freed afterwards).
 * Fails on a duplicate field name, an empty name, or a pattern that does not compile: then
 * *bad_field (bad_field may be NULL) is the index of the field at fault, and the message
 * names the field but not its line (the caller has defs[*bad_field].line). */
lc_schema_t *lc_schema_new(const lc_field_def_t *defs, size_t n, size_t *bad_field,
                           char *errstr, size_t errlen);
void lc_schema_free(lc_schema_t *s);

size_t lc_schema_nfields(const lc_schema_t *s);
const char *lc_schema_field_name(const lc_schema_t *s, size_t i);
lc_field_type_t lc_schema_field_type(const lc_schema_t *s, size_t i);
/* False for an optional field (required: false): when absent it is not checked. */
bool lc_schema_field_required(const lc_schema_t *s, size_t i);
/* True for a string field with no max_length, enum or pattern: its only rules are the type
 * rule (a JSON string) and `empty` (lc_text_is_blank). */
bool lc_schema_field_plain_string(const lc_schema_t *s, size_t i);
/* For such a field, a cheap sufficient test that a JSON string's decoded contents pass: not
 * blank, as their first byte is not white space. False means "check it in full", not
 * "refused". Inline: the classifier asks it for most fields of every record. */
static inline bool lc_schema_plain_string_passes(const char *text, size_t len)
{
    return len > 0 && !lc_text_is_space(text[0]);
}
/* Index of the field named `name`, or -1. */
int lc_schema_field_index(const lc_schema_t *s, const char *name);
const char *lc_schema_type_name(lc_field_type_t t);
/* Parses "string", "integer", ... Returns -1 for an unknown name. */
int lc_schema_type_parse(const char *name, lc_field_type_t *out);

/*
 * Reason ids: a dense numbering of every reason code the schema can produce, for metrics
 * arrays. Document-level and users reasons come first, then 7 codes per field.
 */
size_t lc_schema_nreasons(const lc_schema_t *s);
size_t lc_schema_reason_id(const lc_schema_t *s, lc_reason_kind_t kind, size_t field);
/* "missing:device", "invalid_json", ... (static storage owned by the schema) */
const char *lc_schema_reason_name(const lc_schema_t *s, size_t reason_id);

/*
 * Checks one field's value (CONTRACT §2.1 order: type, empty, length, enum, pattern; missing and
 * null are decided by the caller). For strings, `val` is the DECODED value (may contain NUL);
 * for other JSON types, the raw token. `jtype` is an lc_json_type_t. Returns the failing
 * lc_reason_kind_t, or -1 when the value is acceptable. When the field is an integer and
 * the value converts, *int_out receives it (int_out may be NULL).
 */
int lc_schema_check_value(const lc_schema_t *s, size_t field, int jtype,
                          const char *val, size_t len, int64_t *int_out);

/*
 * Per-thread pattern state. glibc's regexec serialises all callers of one regex_t with a
 * lock, so each classifier (one per thread) compiles its own copy of the schema's patterns;
 * the matcher also keeps the scratch buffer that hands regexec a NUL-terminated copy of the
 * value. lc_schema_check_value_with is lc_schema_check_value using m (m may be NULL: then
 * the schema's own patterns, and a temporary copy is allocated for each pattern check).
 * One thread at a time per matcher; it must not outlive the schema.
 */
typedef struct lc_schema_matcher lc_schema_matcher_t;
lc_schema_matcher_t *lc_schema_matcher_new(const lc_schema_t *s);
void lc_schema_matcher_free(lc_schema_matcher_t *m);
int lc_schema_check_value_with(const lc_schema_t *s, lc_schema_matcher_t *m,
                               size_t field, int jtype, const char *val, size_t len,
                               int64_t *int_out);

/* Type rules of CONTRACT §3, exposed for the unit tests (integers: lc_text.h). */
bool lc_schema_valid_timestamp(const char *s, size_t len);
bool lc_schema_valid_decimal(const char *s, size_t len);

#endif
