/*
 * fuzz_checks.h - what every classified record must satisfy (CONTRACT §2-§4, §7), shared by the
 * libFuzzer harnesses (tests/fuzz/fuzz_classify.c, fuzz_pipe.c) and the replay test
 * (tests/unit/test_fuzz_regressions.c), so the logic exists once.
 *
 * Everything is static inline: each includer gets its own copy and unused functions cost
 * nothing. A check returns NULL when it holds, else a message (in the environment's buffer,
 * valid until the next failing check); the harnesses abort() on it, the test fails with it.
 *
 * Input format (fz_run_input). An input whose first byte is 0xFF and that has at least two
 * bytes carries a header; any other input is the record itself, classified under variant 0.
 *
 *     0xFF FLAGS [POS1 POS2 SLICE] PAYLOAD
 *     FLAGS  bits 0-3  configuration variant (modulo FZ_NVARIANTS, see fz_env_new)
 *            bit  4    expand: the three bytes in brackets follow
 *     POS1/POS2        where slice 1 and slice 2 start in the payload (modulo its length)
 *     SLICE  bits 0-2  slice length - 1;  bit 3: mirror (also repeat slice 2)
 *            bits 4-7  target length, an index into fz_expand_target()
 * Expanding repeats slice 1 (and, mirrored, slice 2 the same number of times) in place
 * until the record reaches the target length, then pads it with trailing spaces to exactly
 * that length: e.g. "[" and "]" of "[]" give deep nesting, one byte of a string value gives a
 * huge string, and the targets max_record_bytes - 1, max and max + 1 hit the too_large edge.
 * So the corpus stays small while records range from 0 bytes to twice the limit.
 *
 * Oracles. Validity, object-ness and duplicates come from jansson (the reference of
 * tests/unit/test_json_diff.c, with its documented exceptions: numbers jansson refuses for
 * overflow and "\u0000" in member names are valid here; nesting deeper than
 * LC_JSON_MAX_DEPTH and a NUL right after a token are invalid here). Field reasons are
 * recomputed from CONTRACT §2.1/§3 (and the decisions of src/schema.c: length, enum and pattern
 * see a non-string value's raw text) except `pattern`, where either answer is accepted; the
 * users verdict is recomputed from a plain list of the rows loaded into the snapshots.
 *
 * Files: fuzz_rules.h (those contract rules, written out again), fuzz_env.h (configuration
 * variants, schemas, users rows, the environment), this file (the checks, the fuzz input
 * format, pipe mode).
 */
#ifndef FUZZ_CHECKS_H
#define FUZZ_CHECKS_H

#include <jansson.h>

#include "fuzz_env.h"
#include "lc_pipe.h"

/* Both directions: decoded values may hold NUL; big integers become reals, so that only
 * numbers beyond a double's range are refused for overflow. */
#define FZ_JANSSON_FLAGS \
    (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL)

/* ---- the reference verdict on the input (jansson) ------------------------------------ */

/* Our scanner is stricter than jansson on depth and on a NUL after a token (lc_json.h). */
static inline bool fz_stricter_here(const char *in, size_t len)
{
    return memchr(in, '\0', len) || fz_depth(in, len) > LC_JSON_MAX_DEPTH;
}

/* jansson's view of a refused load: the document reason, or FZ_DOC_ANY for the documented
 * refusals of valid JSON. */
static inline int fz_doc_of_error(const json_error_t *err)
{
    switch (json_error_code(err)) {
    case json_error_numeric_overflow:
    case json_error_null_byte_in_key:
        return FZ_DOC_ANY;
    default:
        return LC_R_INVALID_JSON;
    }
}

/* The document reason the input must get, from jansson; k->in_root keeps the parse. */
static inline int fz_reference_doc(fz_case_t *k)
{
    size_t max = k->var->opts.max_record_bytes;
    if (!k->present || k->in_len == 0)
        return LC_R_INVALID_JSON;
    if (k->in_len > max)
        return LC_R_TOO_LARGE;
    json_error_t err;
    bool dup = false;
    k->in_root = json_loadb(k->in, k->in_len, FZ_JANSSON_FLAGS, &err);
    if (!k->in_root && json_error_code(&err) == json_error_duplicate_key) {
        dup = true;
        k->in_root = json_loadb(k->in, k->in_len, FZ_JANSSON_FLAGS & ~JSON_REJECT_DUPLICATES,
                                &err);
    }
    if (!k->in_root)
        return fz_doc_of_error(&err);
    if (fz_stricter_here(k->in, k->in_len))
        return LC_R_INVALID_JSON;
    if (!json_is_object(k->in_root))
        return LC_R_NOT_OBJECT;
    return dup ? LC_R_DUPLICATE_KEY : FZ_DOC_NONE;
}

/* ---- checks on the verdict ----------------------------------------------------------- */

static inline int fz_kind(const fz_case_t *k, size_t i)
{
    return k->var->reason_kind[k->v.reasons[i]];
}

static inline const char *fz_check_reason_ids(fz_env_t *e, const fz_case_t *k)
{
    if ((size_t)k->v.status >= LC_STATUS__COUNT)
        return fz_fail(e, k, "status %d out of range", (int)k->v.status);
    if (k->v.nreasons > k->var->ndefs + 1)
        return fz_fail(e, k, "%zu reasons for %zu fields", k->v.nreasons, k->var->ndefs);
    for (size_t i = 0; i < k->v.nreasons; i++)
        if (k->v.reasons[i] >= k->var->nreasons)
            return fz_fail(e, k, "reason id %u out of range", (unsigned)k->v.reasons[i]);
    return NULL;
}

/* bad <=> a document or field reason (or unknown_account with unknown_account: bad);
 * a document or users reason comes alone; field reasons at most one per field, in order. */
static inline const char *fz_check_verdict_logic(fz_env_t *e, const fz_case_t *k)
{
    size_t n = k->v.nreasons, doc = 0, field = 0;
    int last_field = -1;
    for (size_t i = 0; i < n; i++) {
        int kind = fz_kind(k, i);
        if (kind <= LC_R_DUPLICATE_KEY) {
            doc++;
        } else if (kind <= LC_R_PATTERN) {
            int f = k->var->reason_field[k->v.reasons[i]];
            if (f <= last_field)
                return fz_fail(e, k, "field reasons out of schema order or repeated");
            last_field = f;
            field++;
        }
    }
    lc_status_t st = k->v.status;
    if ((doc || field) && st != LC_STATUS_BAD)
        return fz_fail(e, k, "document/field reason but status %s", lc_status_name(st));
    if ((doc || field < n) && n != 1)
        return fz_fail(e, k, "a document or users reason must come alone (%zu reasons)", n);
    if (n == 0 && st != LC_STATUS_GOOD)
        return fz_fail(e, k, "no reason but status %s", lc_status_name(st));
    if (n == 1 && fz_kind(k, 0) == LC_R_UNKNOWN_ACCOUNT &&
        st != k->var->opts.unknown_account_status)
        return fz_fail(e, k, "unknown_account but status %s", lc_status_name(st));
    if (n == 1 && fz_kind(k, 0) == LC_R_DEVICE_MISMATCH && st != LC_STATUS_SUSPICIOUS)
        return fz_fail(e, k, "device_mismatch but status %s", lc_status_name(st));
    return NULL;
}

/* ---- checks on the output ------------------------------------------------------------ */

/* `"<status>":"<label>","<reasons>":[...]}` as the verdict says, into e->expect. */
static inline void fz_expected_tail(fz_env_t *e, const fz_case_t *k)
{
    lc_buf_printf(&e->expect, "\"%s\":\"%s\",\"%s\":[", k->var->opts.status_field,
                  lc_status_name(k->v.status), k->var->opts.reasons_field);
    for (size_t i = 0; i < k->v.nreasons; i++)
        lc_buf_printf(&e->expect, "%s\"%s\"", i ? "," : "",
                      lc_schema_reason_name(k->var->opts.schema, k->v.reasons[i]));
    lc_buf_append(&e->expect, "]}", 2);
}

/* The output is one valid JSON object without duplicate names (our scanner), jansson
 * agrees unless it refuses a big number or a NUL in a name, and it ends with the
 * classification. */
static inline const char *fz_check_output_json(fz_env_t *e, fz_case_t *k)
{
    bool utf8_ok;
    const char *os, *oe;
    lc_json_result_t r = lc_json_scan(e->out_scan, k->out, k->out_len, &utf8_ok, &k->out_m,
                                      &k->out_n, &os, &oe);
    if (r != LC_JSON_OK)
        return fz_fail(e, k, "output is not a valid JSON object (scan result %d)", r);
    if (os != k->out || oe != k->out + k->out_len)
        return fz_fail(e, k, "output has bytes around its object");
    json_error_t err;
    k->out_root = json_loadb(k->out, k->out_len, FZ_JANSSON_FLAGS, &err);
    if (!k->out_root && fz_doc_of_error(&err) != FZ_DOC_ANY)
        return fz_fail(e, k, "jansson refuses the output: %s (code %d)", err.text,
                       (int)json_error_code(&err));
    if (k->out_root && !json_is_object(k->out_root))
        return fz_fail(e, k, "jansson: output is not an object");
    lc_buf_reset(&e->expect);
    fz_expected_tail(e, k);
    size_t tl = e->expect.len;
    if (k->out_n < 2 || k->out_len < tl ||
        memcmp(k->out + k->out_len - tl, e->expect.data, tl) != 0)
        return fz_fail(e, k, "output does not end with %.*s", (int)tl, e->expect.data);
    const lc_json_member_t *st = &k->out_m[k->out_n - 2];
    if (!lc_json_key_equals(st->key, st->key_len, st->key_escaped, k->var->opts.status_field,
                            strlen(k->var->opts.status_field)))
        return fz_fail(e, k, "the status member is not where the tail is");
    return NULL;
}

/* The jansson view of the status/reasons members, for good measure. */
static inline const char *fz_check_output_members(fz_env_t *e, const fz_case_t *k)
{
    if (!k->out_root)
        return NULL;
    json_t *st = json_object_get(k->out_root, k->var->opts.status_field);
    json_t *rs = json_object_get(k->out_root, k->var->opts.reasons_field);
    if (!json_is_string(st) || strcmp(json_string_value(st), lc_status_name(k->v.status)))
        return fz_fail(e, k, "jansson: bad %s member", k->var->opts.status_field);
    if (!json_is_array(rs) || json_array_size(rs) != k->v.nreasons)
        return fz_fail(e, k, "jansson: bad %s member", k->var->opts.reasons_field);
    for (size_t i = 0; i < k->v.nreasons; i++) {
        json_t *r = json_array_get(rs, i);
        const char *want = lc_schema_reason_name(k->var->opts.schema, k->v.reasons[i]);
        if (!json_is_string(r) || strcmp(json_string_value(r), want) != 0)
            return fz_fail(e, k, "jansson: reason %zu is not %s", i, want);
    }
    return NULL;
}

/* A refused record: exactly raw | raw_base64 | raw_bytes, then the classification. */
static inline const char *fz_check_refused(fz_env_t *e, const fz_case_t *k, int kind)
{
    if (k->out_n != 3)
        return fz_fail(e, k, "refused record has %zu members, not 3", k->out_n);
    const lc_json_member_t *m = &k->out_m[0];
    lc_buf_reset(&e->expect);
    if (kind == LC_R_TOO_LARGE) {
        lc_buf_printf(&e->expect, "%zu", k->in_len);
        if (!lc_json_key_equals(m->key, m->key_len, m->key_escaped, "raw_bytes", 9) ||
            m->val_len != e->expect.len || memcmp(m->val, e->expect.data, m->val_len))
            return fz_fail(e, k, "too_large needs \"raw_bytes\":%zu first", k->in_len);
        return NULL;
    }
    if (!fz_utf8_valid(k->in, k->in_len)) {
        fz_base64(&e->expect, (const unsigned char *)k->in, k->in_len);
        if (!lc_json_key_equals(m->key, m->key_len, m->key_escaped, "raw_base64", 10) ||
            m->val_len != e->expect.len || memcmp(m->val, e->expect.data, m->val_len))
            return fz_fail(e, k, "input not UTF-8: needs raw_base64 of it first");
        return NULL;
    }
    json_t *raw = k->out_root ? json_object_get(k->out_root, "raw") : NULL;
    if (!lc_json_key_equals(m->key, m->key_len, m->key_escaped, "raw", 3) ||
        m->type != LC_JT_STRING || !raw || json_string_length(raw) != k->in_len ||
        memcmp(json_string_value(raw), k->in, k->in_len) != 0)
        return fz_fail(e, k, "UTF-8 input: needs \"raw\" holding exactly its bytes first");
    return NULL;
}

/* The name an output field would give: status_field or reasons_field, else NULL. */
static inline const char *fz_output_field_named(const fz_case_t *k, const lc_json_member_t *m)
{
    const char *names[2] = {k->var->opts.status_field, k->var->opts.reasons_field};
    for (size_t i = 0; i < 2; i++)
        if (lc_json_key_equals(m->key, m->key_len, m->key_escaped, names[i], strlen(names[i])))
            return names[i];
    return NULL;
}

static inline bool fz_out_has_key(const fz_case_t *k, size_t skip, const char *name, size_t n)
{
    for (size_t i = 0; i < k->out_n; i++)
        if (i != skip && lc_json_key_equals(k->out_m[i].key, k->out_m[i].key_len,
                                            k->out_m[i].key_escaped, name, n))
            return true;
    return false;
}

/* Member i was named like an output field: now it is "original_"^j + its name, j >= 1,
 * and j is the smallest such name not taken by another output member. */
static inline const char *fz_check_renamed(fz_env_t *e, const fz_case_t *k, size_t i,
                                           const char *name)
{
    const lc_json_member_t *m = &k->out_m[i];
    lc_buf_t *d = &e->dec[0];
    lc_buf_reset(d);
    lc_buf_reserve(d, m->key_len + 1);
    d->len = lc_json_unescape(m->key, m->key_len, d->data, d->cap);
    size_t nl = strlen(name), j = 0;
    while ((j + 1) * 9 + nl <= d->len && memcmp(d->data + j * 9, "original_", 9) == 0)
        j++;
    if (j == 0 || j * 9 + nl != d->len || memcmp(d->data + j * 9, name, nl) != 0)
        return fz_fail(e, k, "member %zu named like an output field was not renamed "
                             "original_%s", i, name);
    if (j > 1 && !fz_out_has_key(k, i, d->data + 9, d->len - 9))
        return fz_fail(e, k, "member %zu renamed with %zu prefixes, fewer were free", i, j);
    return NULL;
}

/* Every input member is in the output, in order, with its value text unchanged and its
 * name unchanged unless renamed; the classification is the last two members. */
static inline const char *fz_check_members_kept(fz_env_t *e, const fz_case_t *k,
                                                bool *renamed)
{
    if (k->out_n != k->in_n + 2)
        return fz_fail(e, k, "output has %zu members for %zu input members", k->out_n, k->in_n);
    *renamed = false;
    for (size_t i = 0; i < k->in_n; i++) {
        const lc_json_member_t *a = &k->in_m[i], *b = &k->out_m[i];
        if (a->type != b->type || a->val_len != b->val_len || memcmp(a->val, b->val, a->val_len))
            return fz_fail(e, k, "member %zu: value not kept byte for byte", i);
        const char *field = fz_output_field_named(k, a);
        if (field) {
            *renamed = true;
            FZ_TRY(fz_check_renamed(e, k, i, field));
        } else if (a->key_len != b->key_len || memcmp(a->key, b->key, a->key_len) != 0) {
            return fz_fail(e, k, "member %zu: name not kept", i);
        }
    }
    return NULL;
}

/* Without renames the output is exactly: the trimmed input minus its final '}' (and the
 * white space before it), a comma if it had members, then the classification. */
static inline const char *fz_check_splice_text(fz_env_t *e, const fz_case_t *k)
{
    const char *s = k->in, *end = k->in + k->in_len;
    while (s < end && fz_json_ws(*s))
        s++;
    while (end > s && fz_json_ws(end[-1]))
        end--;
    if (end == s || end[-1] != '}')
        return fz_fail(e, k, "spliced record does not end with '}'");
    end--;
    while (end > s + 1 && fz_json_ws(end[-1]))
        end--;
    lc_buf_reset(&e->expect);
    lc_buf_append(&e->expect, s, (size_t)(end - s));
    if (k->in_n > 0)
        lc_buf_putc(&e->expect, ',');
    fz_expected_tail(e, k);
    if (e->expect.len != k->out_len || memcmp(e->expect.data, k->out, k->out_len) != 0)
        return fz_fail(e, k, "output is not the input plus the classification");
    return NULL;
}

/* ---- field oracle (CONTRACT §2.1, §3) ---------------------------------------------------- */

/* Our scanner's member for `name` in the input object, or NULL. */
static inline const lc_json_member_t *fz_in_member(const fz_case_t *k, const char *name)
{
    for (size_t i = 0; i < k->in_n; i++)
        if (lc_json_key_equals(k->in_m[i].key, k->in_m[i].key_len, k->in_m[i].key_escaped,
                               name, strlen(name)))
            return &k->in_m[i];
    return NULL;
}

/* The text a check sees: a string decoded (into e->dec[slot], and compared with jansson's
 * decoding when jansson parsed the input), anything else its raw JSON text. */
static inline const char *fz_value_text(fz_env_t *e, const fz_case_t *k, const char *name,
                                        const lc_json_member_t *m, int slot, size_t *len)
{
    if (m->type != LC_JT_STRING) {
        *len = m->val_len;
        return m->val;
    }
    lc_buf_t *d = &e->dec[slot];
    lc_buf_reset(d);
    lc_buf_reserve(d, m->val_len + 1);
    d->len = lc_json_unescape(m->val, m->val_len, d->data, d->cap);
    json_t *j = k->in_root ? json_object_get(k->in_root, name) : NULL;
    if (j && (!json_is_string(j) || json_string_length(j) != d->len ||
              memcmp(json_string_value(j), d->data, d->len) != 0))
        *len = SIZE_MAX;                   /* reported by the caller */
    else
        *len = d->len;
    return d->data;
}

/* Type rule of CONTRACT §3 on a present, non-null value: 1 accepted, 0 refused, -1 unknown. */
static inline int fz_type_accepts(lc_field_type_t type, int jt, const char *t, size_t n)
{
    int64_t ignored;
    switch (type) {
    case LC_FT_STRING:
        return jt == LC_JT_STRING;
    case LC_FT_INTEGER:
        return (jt == LC_JT_STRING || jt == LC_JT_NUMBER) && fz_parse_int(t, n, &ignored);
    case LC_FT_NUMBER:
        return jt == LC_JT_NUMBER ? 1 : jt == LC_JT_STRING ? fz_decimal_string(t, n) : 0;
    case LC_FT_BOOLEAN:
        return jt == LC_JT_TRUE || jt == LC_JT_FALSE;
    case LC_FT_TIMESTAMP:
        if (jt == LC_JT_NUMBER)
            return fz_epoch_digits(t, n);
        return jt == LC_JT_STRING && (fz_epoch_digits(t, n) || fz_rfc3339(t, n));
    }
    return -1;
}

static inline bool fz_in_enum(const lc_field_def_t *d, const char *t, size_t n)
{
    for (size_t i = 0; i < d->n_enum; i++)
        if (strlen(d->enum_values[i]) == n && memcmp(d->enum_values[i], t, n) == 0)
            return true;
    return false;
}

static inline bool fz_blank(const char *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!fz_ascii_ws(t[i]))
            return false;
    return true;
}

/* The reason field f must get: a kind or one of FZ_FIELD_*. *decode_differs is set when
 * lc_json_unescape and jansson disagree on the value. */
static inline int fz_expected_field_reason(fz_env_t *e, const fz_case_t *k, size_t f,
                                           bool *decode_differs)
{
    const lc_field_def_t *d = &k->var->defs[f];
    const lc_json_member_t *m = fz_in_member(k, d->name);
    if (!m)
        return d->required ? LC_R_MISSING : FZ_FIELD_NONE;
    if (m->type == LC_JT_NULL)
        return LC_R_NULL;
    size_t n;
    const char *t = fz_value_text(e, k, d->name, m, 0, &n);
    if (n == SIZE_MAX) {
        *decode_differs = true;
        return FZ_FIELD_NONE;
    }
    int ok = fz_type_accepts(d->type, m->type, t, n);
    if (ok < 0)
        return FZ_FIELD_AFTER_TYPE;
    if (!ok)
        return LC_R_TYPE;
    if (d->type == LC_FT_STRING && fz_blank(t, n))
        return LC_R_EMPTY;
    if (d->max_length >= 0 && fz_code_points(t, n) > (size_t)d->max_length)
        return LC_R_LENGTH;
    if (d->n_enum > 0 && !fz_in_enum(d, t, n))
        return LC_R_ENUM;
    return d->pattern ? FZ_FIELD_NONE_OR_PATTERN : FZ_FIELD_NONE;
}

/* The reason the classifier gave field f, or FZ_FIELD_NONE. */
static inline int fz_actual_field_reason(const fz_case_t *k, size_t f)
{
    for (size_t i = 0; i < k->v.nreasons; i++)
        if (k->var->reason_field[k->v.reasons[i]] == (int)f)
            return fz_kind(k, i);
    return FZ_FIELD_NONE;
}

static inline const char *fz_check_fields(fz_env_t *e, const fz_case_t *k)
{
    for (size_t f = 0; f < k->var->ndefs; f++) {
        bool decode_differs = false;
        int want = fz_expected_field_reason(e, k, f, &decode_differs);
        int got = fz_actual_field_reason(k, f);
        if (decode_differs)
            return fz_fail(e, k, "field %s: lc_json_unescape and jansson decode differently",
                           k->var->defs[f].name);
        bool ok = got == want ||
                  (want == FZ_FIELD_NONE_OR_PATTERN &&
                   (got == FZ_FIELD_NONE || got == LC_R_PATTERN)) ||
                  (want == FZ_FIELD_AFTER_TYPE && got != LC_R_MISSING &&
                   got != LC_R_NULL && got != LC_R_EMPTY);
        if (!ok)
            return fz_fail(e, k, "field %s: reason %d, the rules of CONTRACT §3 say %d",
                           k->var->defs[f].name, got, want);
    }
    return NULL;
}

/* ---- users oracle (CONTRACT §2.2) -------------------------------------------------------- */

static inline void fz_trim(const char **s, size_t *n)
{
    while (*n > 0 && fz_ascii_ws((*s)[0])) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && fz_ascii_ws((*s)[*n - 1]))
        (*n)--;
}

static inline bool fz_same_device(const fz_users_t *u, const char *a, size_t an,
                                  const char *b, size_t bn)
{
    fz_trim(&a, &an);
    fz_trim(&b, &bn);
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++) {
        char x = a[i], y = b[i];
        if (u->case_insensitive) {
            x = (x >= 'A' && x <= 'Z') ? (char)(x + 32) : x;
            y = (y >= 'A' && y <= 'Z') ? (char)(y + 32) : y;
        }
        if (x != y)
            return false;
    }
    return true;
}

static inline bool fz_row_has_key(const fz_users_t *u, const fz_row_t *r, const char *key,
                                  size_t n)
{
    if (!u->int_keys)
        return r->key_len == n && memcmp(r->key, key, n) == 0;
    int64_t a, b;
    return fz_parse_int(r->key, r->key_len, &a) && fz_parse_int(key, n, &b) && a == b;
}

/* LC_USERS_* for key text/device text against the rows loaded into the snapshot. */
static inline lc_users_match_t fz_users_lookup(const fz_users_t *u, const char *key, size_t kn,
                                               const char *dev, size_t dn)
{
    lc_users_match_t m = LC_USERS_UNKNOWN;
    for (size_t i = 0; i < u->nrows; i++) {
        const fz_row_t *r = &u->rows[i];
        if (!fz_row_has_key(u, r, key, kn))
            continue;
        if (fz_same_device(u, r->dev, r->dev_len, dev, dn))
            return LC_USERS_MATCH;
        m = LC_USERS_MISMATCH;
    }
    return m;
}

/* The users verdict for a record with no field reason: status and at most one reason. */
static inline const char *fz_check_users(fz_env_t *e, const fz_case_t *k)
{
    const fz_users_t *u = k->var->users;
    lc_users_match_t m = LC_USERS_MATCH;
    if (u) {
        const char *kf = k->var->opts.key_field, *vf = k->var->opts.value_field;
        const lc_json_member_t *km = fz_in_member(k, kf), *dm = fz_in_member(k, vf);
        size_t kn = 0, dn = 0;
        const char *key = km ? fz_value_text(e, k, kf, km, 0, &kn) : NULL;
        const char *dev = dm ? fz_value_text(e, k, vf, dm, 1, &dn) : "";
        if (kn == SIZE_MAX || dn == SIZE_MAX)
            return fz_fail(e, k, "users fields: lc_json_unescape and jansson differ");
        m = (!km || km->type == LC_JT_NULL) ? LC_USERS_UNKNOWN
                                            : fz_users_lookup(u, key, kn, dev, dn);
    }
    lc_status_t want = m == LC_USERS_MATCH     ? LC_STATUS_GOOD
                       : m == LC_USERS_UNKNOWN ? k->var->opts.unknown_account_status
                                               : LC_STATUS_SUSPICIOUS;
    size_t nwant = m == LC_USERS_MATCH ? 0 : 1;
    int kind = m == LC_USERS_UNKNOWN ? LC_R_UNKNOWN_ACCOUNT : LC_R_DEVICE_MISMATCH;
    if (k->v.status != want || k->v.nreasons != nwant || (nwant && fz_kind(k, 0) != kind))
        return fz_fail(e, k, "users check: got %s with %zu reasons, the rows say %s%s",
                       lc_status_name(k->v.status), k->v.nreasons, lc_status_name(want),
                       nwant ? (kind == LC_R_UNKNOWN_ACCOUNT ? " unknown_account"
                                                             : " device_mismatch")
                             : "");
    return NULL;
}

/* ---- one classification -------------------------------------------------------------- */

static inline int fz_doc_reason_of(const fz_case_t *k)
{
    if (k->v.nreasons == 1 && fz_kind(k, 0) <= LC_R_DUPLICATE_KEY)
        return fz_kind(k, 0);
    return FZ_DOC_NONE;
}

static inline const char *fz_check_spliced(fz_env_t *e, fz_case_t *k)
{
    bool utf8_ok, renamed = false;
    if (lc_json_scan(e->in_scan, k->in, k->in_len, &utf8_ok, &k->in_m, &k->in_n, NULL,
                     NULL) != LC_JSON_OK)
        return fz_fail(e, k, "spliced, but the scanner refuses the input on a second scan");
    FZ_TRY(fz_check_members_kept(e, k, &renamed));
    if (!renamed)
        FZ_TRY(fz_check_splice_text(e, k));
    FZ_TRY(fz_check_fields(e, k));
    for (size_t i = 0; i < k->v.nreasons; i++)
        if (fz_kind(k, i) >= LC_R_MISSING && fz_kind(k, i) <= LC_R_PATTERN)
            return NULL;                   /* bad by the schema: no users check */
    return fz_check_users(e, k);
}

static inline const char *fz_check_case(fz_env_t *e, fz_case_t *k)
{
    FZ_TRY(fz_check_reason_ids(e, k));
    FZ_TRY(fz_check_verdict_logic(e, k));
    FZ_TRY(fz_check_output_json(e, k));
    FZ_TRY(fz_check_output_members(e, k));
    int got = fz_doc_reason_of(k);
    if (k->want_doc != FZ_DOC_ANY && got != k->want_doc)
        return fz_fail(e, k, "document reason %d, jansson says %d", got, k->want_doc);
    if (k->want_doc == FZ_DOC_ANY && got == LC_R_TOO_LARGE)
        return fz_fail(e, k, "too_large within max_record_bytes");
    if (got != FZ_DOC_NONE)
        return fz_check_refused(e, k, got);
    return fz_check_spliced(e, k);
}

/* Classifies one record under variant `vi` and checks everything above. */
static inline const char *fz_check_record(fz_env_t *e, size_t vi, const char *in, size_t len,
                                          bool present)
{
    fz_case_t k = {.var = &e->var[vi % FZ_NVARIANTS], .in = in ? in : "", .in_len = len,
                   .present = present};
    lc_buf_reset(&e->out);
    const lc_users_t *users = k.var->users ? k.var->users->snap : NULL;
    lc_classify(k.var->classifier, users, k.in, len, present, &k.v, &e->out);
    k.out = e->out.data ? e->out.data : "";
    k.out_len = e->out.len;
    k.want_doc = fz_reference_doc(&k);
    const char *why = fz_check_case(e, &k);
    json_decref(k.in_root);
    json_decref(k.out_root);
    return why;
}

/* ---- fuzz input decoding ------------------------------------------------------------- */

/* Record lengths an expansion aims at: mostly small, a quarter at the too_large edge. */
static inline size_t fz_expand_target(size_t max, unsigned idx)
{
    const size_t targets[16] = {max - 1, max, max + 1, 2 * max + 7, 63, 64, 65, 513,
                                1024, 1026, 2049, 4100, 8200, 65536, 100000, 300000};
    size_t t = targets[idx & 15];
    return t < FZ_MAX_EXPANDED ? t : FZ_MAX_EXPANDED;
}

/* Appends `times` copies of p[0..n) (doubling copies: ASan makes byte loops slow). */
static inline void fz_append_repeated(lc_buf_t *b, const char *p, size_t n, size_t times)
{
    if (times == 0 || n == 0)
        return;
    size_t start = b->len, total = n * times;
    lc_buf_reserve(b, total);
    memcpy(b->data + start, p, n);
    for (size_t done = n; done < total;) {
        size_t chunk = done < total - done ? done : total - done;
        memcpy(b->data + start + done, b->data + start, chunk);
        done += chunk;
    }
    b->len = start + total;
}

/* Writes the payload with its slices repeated (see the top of this file) into e->expanded:
 * hdr is POS1 POS2 SLICE. */
static inline void fz_expand(fz_env_t *e, const uint8_t *hdr, const char *p, size_t n,
                             size_t max)
{
    lc_buf_t *b = &e->expanded;
    lc_buf_reset(b);
    if (n == 0)
        return;
    size_t slen = 1 + (hdr[2] & 7), s1 = hdr[0] % n, s2 = hdr[1] % n;
    bool mirror = hdr[2] & 8;
    size_t l1 = slen < n - s1 ? slen : n - s1, l2 = slen < n - s2 ? slen : n - s2;
    size_t target = fz_expand_target(max, (unsigned)(hdr[2] >> 4));
    size_t times = target > n ? (target - n) / (l1 + (mirror ? l2 : 0)) : 0;
    size_t a = s1, al = l1, z = n, zl = 0;      /* slices in payload order */
    if (mirror && s2 < s1) {
        a = s2;
        al = l2;
        z = s1;
        zl = l1;
    } else if (mirror) {
        z = s2;
        zl = l2;
    }
    lc_buf_reserve(b, n + times * (al + zl) + 1);
    lc_buf_append(b, p, a);
    fz_append_repeated(b, p + a, al, times);
    lc_buf_append(b, p + a, z - a);
    fz_append_repeated(b, p + z, zl, times);
    lc_buf_append(b, p + z, n - z);
    if (b->len < target) {
        lc_buf_reserve(b, target - b->len);
        memset(b->data + b->len, ' ', target - b->len);
        b->len = target;
    }
}

/* Decodes a fuzz input (header, expansion) and checks its record; a 0-byte input is also
 * checked as a tombstone. */
static inline const char *fz_run_input(fz_env_t *e, const uint8_t *data, size_t size)
{
    if (size < 2 || data[0] != FZ_HEADER_MARK) {
        if (size == 0)
            FZ_TRY(fz_check_record(e, 0, NULL, 0, false));
        return fz_check_record(e, 0, (const char *)data, size, true);
    }
    size_t vi = (data[1] & 15) % FZ_NVARIANTS;
    if (!(data[1] & 16) || size < 5)
        return fz_check_record(e, vi, (const char *)data + 2, size - 2, true);
    fz_expand(e, data + 2, (const char *)data + 5, size - 5, e->var[vi].opts.max_record_bytes);
    return fz_check_record(e, vi, e->expanded.data ? e->expanded.data : "", e->expanded.len,
                           true);
}

/* The whole input as a record, under every variant (the replay test's extra mile). */
static inline const char *fz_run_all_variants(fz_env_t *e, const uint8_t *data, size_t size)
{
    for (size_t vi = 0; vi < FZ_NVARIANTS; vi++)
        FZ_TRY(fz_check_record(e, vi, (const char *)data, size, true));
    return NULL;
}

/* ---- pipe mode (CONTRACT §7) -------------------------------------------------------------- */

/* A blank pipe-mode line: only ASCII white space (CONTRACT §2.1's set, as for empty:F). */
static inline bool fz_blank_line(const char *s, size_t n)
{
    return fz_blank(s, n);
}

/* What pipe mode must write for `data`: for each non-blank line (split on '\n', one trailing
 * '\r' dropped) the default variant's output and a newline; each line is also checked. */
static inline const char *fz_expected_pipe(fz_env_t *e, const char *data, size_t size,
                                           lc_buf_t *want, size_t *lines)
{
    *lines = 0;
    for (size_t at = 0; at < size;) {
        const char *nl = memchr(data + at, '\n', size - at);
        size_t end = nl ? (size_t)(nl - data) : size, len = end - at;
        if (len && data[at + len - 1] == '\r')
            len--;
        if (!fz_blank_line(data + at, len)) {
            FZ_TRY(fz_check_record(e, 0, data + at, len, true));
            lc_buf_append(want, e->out.data, e->out.len);
            lc_buf_putc(want, '\n');
            (*lines)++;
        }
        at = end + 1;
    }
    return NULL;
}

/* Runs lc_pipe_run over `data` with the default configuration and users: one output line
 * per non-blank input line, in order, each the classifier's output. */
static inline const char *fz_check_pipe(fz_env_t *e, const uint8_t *data, size_t size)
{
    if (size == 0)
        return NULL;                 /* fmemopen needs a non-empty buffer */
    char *got = NULL, err[256] = "";
    size_t got_len = 0, lines = 0;
    FILE *in = fmemopen((void *)data, size, "r");
    FILE *out = open_memstream(&got, &got_len);
    if (!in || !out)
        abort();
    int rc = lc_pipe_run(&e->config->classify, e->int_users.snap, in, out, err, sizeof(err));
    fclose(in);
    fclose(out);
    lc_buf_reset(&e->pipe_out);
    const char *why = fz_expected_pipe(e, (const char *)data, size, &e->pipe_out, &lines);
    fz_case_t k = {.var = &e->var[0], .in = (const char *)data, .in_len = size, .out = got,
                   .out_len = got_len};
    if (!why && rc != 0)
        why = fz_fail(e, &k, "lc_pipe_run failed: %s", err);
    if (!why && (got_len != e->pipe_out.len ||
                 (got_len && memcmp(got, e->pipe_out.data, got_len) != 0)))
        why = fz_fail(e, &k, "pipe output differs from the %zu classified lines", lines);
    free(got);
    return why;
}

#endif

