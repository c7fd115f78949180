/*
 * classify.c - the pure classifier (CONTRACT §2, §4): one record's bytes in, a label, its reasons
 * and the output record out. No I/O, no globals, no locks; one classifier per thread.
 *
 * Hot path, per record: one scan (lc_json_scan), a lookup of each schema field among the
 * top-level members (cheap: precomputed name lengths, a rotating start so that records
 * whose members come in schema order find each field at the first try), the value checks
 * on the raw spans (strings are only decoded when they contain a backslash), one users
 * lookup, and the output spliced from the input's own bytes. Everything the output needs
 * besides the input (status/reasons member names, escaped reason names) is formatted once,
 * in lc_classifier_new. Scratch buffers grow to the largest record seen and are reused, so
 * the steady state allocates nothing.
 *
 * Decisions the contract leaves open, made here (tests/unit/test_classify.c pins them down):
 *
 *  - A tombstone (absent value) is invalid_json with "raw":"" (there are no bytes to keep;
 *    an empty string is what an empty value would give too, and keeps one output shape).
 *  - Refused records keep status_field/reasons_field names from the options, like objects.
 *  - An input member named like an output field is renamed "original_<name>". If that name
 *    is taken too (by another input member, by the other output field or by another renamed
 *    member) "original_" is prefixed again until the name is unique, so the output never has
 *    a duplicate key and no input member is lost.
 *  - Keys compare as integers when the users snapshot was built with integer keys (the
 *    configuration decides that once: when the key field's schema type is integer,
 *    CONTRACT §2.2); asking the snapshot rather than the schema keeps the two in step even
 *    if they were wired differently. A key that does not convert, or an absent key (an optional or
 *    unchecked key field), is an unknown account.
 *  - The device is the decoded value when the value field is a string, else its raw JSON
 *    text; an absent value field compares as "" (which matches no real device).
 */
#include "lc_classify.h"

#include "lc_json.h"
#include "lc_text.h"

#include <stdlib.h>
#include <string.h>

/* Refused records use these member names (emit_refused); output field names must differ. */
const char *const lc_classify_refused_names[] = {"raw", "raw_base64", "raw_bytes", NULL};

static const char *const status_names[LC_STATUS__COUNT] = {
    [LC_STATUS_GOOD] = "good",
    [LC_STATUS_BAD] = "bad",
    [LC_STATUS_SUSPICIOUS] = "suspicious",
};

/* A schema field as the hot path needs it. */
typedef struct field_slot {
    const char *name;      /* owned by the schema */
    size_t name_len;
    bool required;
    bool plain_string;     /* lc_schema_field_plain_string */
} field_slot_t;

/* One name the classifier looks for, and what a member of that name is: a schema field, a
 * users field outside the schema, an output field (to be renamed), or several of these. */
enum {
    ROLE_KEY_EXTRA = 1,       /* users.key_field, not a schema field */
    ROLE_VALUE_EXTRA = 2,     /* users.value_field, not a schema field */
    ROLE_OUT_STATUS = 4,      /* output.status_field */
    ROLE_OUT_REASONS = 8,     /* output.reasons_field */
};

#define NAME_BUCKETS 64     /* lc_json_name_fp's range */

typedef struct name_entry {
    const char *name;
    uint32_t len;
    int32_t field;         /* schema index, or -1 */
    uint32_t roles;        /* ROLE_* */
    int32_t next;          /* the next name of the same fingerprint, or -1 */
} name_entry_t;

/* A member named like an output field, and the unique name it is emitted under. */
typedef struct rename {
    const lc_json_member_t *member;
    lc_buf_t new_name;     /* decoded name, not escaped */
} rename_t;

struct lc_classifier {
    const lc_schema_t *schema;
    lc_schema_matcher_t *matcher;
    lc_json_scanner_t *scanner;
    size_t max_record_bytes;
    lc_status_t unknown_account_status;

    char *key_field, *value_field, *status_field, *reasons_field;
    size_t key_field_len, value_field_len, status_field_len, reasons_field_len;
    int key_field_idx, value_field_idx;     /* schema index, or -1 */
    bool key_field_int;                     /* the key field is an integer schema field */

    size_t nfields;
    field_slot_t *fields;
    const lc_json_member_t **found;         /* per field: its member in this record */
    uint32_t *reasons;                      /* nfields + 1 */

    char *scratch;                          /* decoded string values */
    size_t scratch_cap;

    /* Output pieces formatted once: `"status":"<label>","reasons":[` per label, and each
     * reason id's JSON string (quotes included) at reason_json.data + reason_off[id]. */
    lc_buf_t tail[LC_STATUS__COUNT];
    lc_buf_t reason_json;
    size_t *reason_off;
    size_t *reason_len;

    rename_t renames[2];                    /* at most one member per output field */
    lc_buf_t candidate;

    /* The names the classifier looks for in a record (schema fields, users fields outside
     * the schema, output fields), chained by the scanner's name fingerprint (build_names):
     * index_members finds every member's role from the fingerprint the scanner left in it. */
    name_entry_t *name_list;
    size_t nnames;
    int32_t name_bucket[NAME_BUCKETS];      /* first name of each fingerprint, or -1 */
    const lc_json_member_t *key_extra;      /* this record's users fields outside the schema */
    const lc_json_member_t *value_extra;
};

/* ------------------------------------------------------------------------------------ */
/* Status names                                                                          */
/* ------------------------------------------------------------------------------------ */

const char *lc_status_name(lc_status_t s)
{
    return (size_t)s < LC_STATUS__COUNT ? status_names[s] : "?";
}

int lc_status_parse(const char *name, lc_status_t *out)
{
    for (size_t i = 0; i < LC_STATUS__COUNT; i++) {
        if (strcmp(name, status_names[i]) == 0) {
            *out = (lc_status_t)i;
            return 0;
        }
    }
    return -1;
}

/* ------------------------------------------------------------------------------------ */
/* Small helpers                                                                         */
/* ------------------------------------------------------------------------------------ */

/* Grows the decode scratch to at least `need` bytes (never shrinks). */
static void ensure_scratch(lc_classifier_t *c, size_t need)
{
    if (need <= c->scratch_cap)
        return;
    lc_buf_t b = {c->scratch, 0, c->scratch_cap};
    lc_buf_reserve(&b, need);
    c->scratch = b.data;
    c->scratch_cap = b.cap;
}

static inline uint64_t load8(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);   /* one unaligned load */
    return v;
}

static inline uint32_t load4(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Byte equality for short names without a libc call: two overlapping loads cover 4-16
 * bytes (the first and the last 8, or 4), which is every field name in practice. */
static inline bool same_bytes(const char *a, const char *b, size_t n)
{
    if (n > 16)
        return memcmp(a, b, n) == 0;
    if (n >= 8)
        return load8(a) == load8(b) && load8(a + n - 8) == load8(b + n - 8);
    if (n >= 4)
        return load4(a) == load4(b) && load4(a + n - 4) == load4(b + n - 4);
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* Does member m's name (maybe escaped) equal name/len? An escaped key decodes to fewer
 * bytes than it has, so a raw key shorter than the name cannot match. */
static inline bool key_is(const lc_json_member_t *m, const char *name, size_t len)
{
    if (!m->key_escaped)
        return m->key_len == len && same_bytes(m->key, name, len);
    return m->key_len >= len && lc_json_key_equals(m->key, m->key_len, true, name, len);
}

/* Gives one member its roles: c->found for a schema field, key_extra/value_extra for a
 * users field outside the schema, and a rename for a name an output field takes (in
 * input order: find_collisions' order). Returns the renames so far. */
static size_t note_member(lc_classifier_t *c, const lc_json_member_t *m, const name_entry_t *e,
                          size_t nr)
{
    if (e->field >= 0)
        c->found[e->field] = m;
    if (e->roles & ROLE_KEY_EXTRA)
        c->key_extra = m;
    if (e->roles & ROLE_VALUE_EXTRA)
        c->value_extra = m;
    if (e->roles & (ROLE_OUT_STATUS | ROLE_OUT_REASONS))
        c->renames[nr++].member = m;
    return nr;
}

/* Every member compared with every name the classifier looks for (key_is): the way for
 * escaped names. */
static size_t note_member_slowly(lc_classifier_t *c, const lc_json_member_t *m, size_t nr)
{
    for (size_t i = 0; i < c->nnames; i++) {
        const name_entry_t *e = &c->name_list[i];
        if (key_is(m, e->name, e->len))
            return note_member(c, m, e, nr);   /* names are distinct: at most one matches */
    }
    return nr;
}

/* Finds, in one pass over the record's members, the member of every schema field
 * (c->found, NULL when absent), of the users fields outside the schema, and the members
 * named like an output field (c->renames, in input order; their new names are chosen by
 * choose_new_names). Member names are unique (duplicates are refused before). */
static size_t index_members(lc_classifier_t *c, const lc_json_member_t *members, size_t n)
{
    memset(c->found, 0, c->nfields * sizeof(*c->found));
    c->key_extra = c->value_extra = NULL;
    size_t nr = 0;
    for (size_t i = 0; i < n; i++) {
        const lc_json_member_t *m = &members[i];
        if (m->key_escaped || m->key_len == 0) {   /* fingerprints are of raw, non-empty names */
            nr = note_member_slowly(c, m, nr);
            continue;
        }
        for (int32_t k = c->name_bucket[m->name_fp]; k >= 0; k = c->name_list[k].next) {
            const name_entry_t *e = &c->name_list[k];
            if (e->len == m->key_len && same_bytes(m->key, e->name, e->len)) {
                nr = note_member(c, m, e, nr);
                break;
            }
        }
    }
    return nr;
}

/* The text a check sees: a string's decoded contents (decoded into scratch at `at` only
 * when it has escapes), or any other value's raw JSON text. */
static const char *decode_member(lc_classifier_t *c, const lc_json_member_t *m, size_t at,
                                 size_t *len)
{
    ensure_scratch(c, at + m->val_len);
    *len = lc_json_unescape(m->val, m->val_len, c->scratch + at, c->scratch_cap - at);
    return c->scratch + at;
}

static inline const char *member_text(lc_classifier_t *c, const lc_json_member_t *m, size_t at,
                                      size_t *len)
{
    if (m->type != LC_JT_STRING || !m->val_escaped) {
        *len = m->val_len;
        return m->val;
    }
    return decode_member(c, m, at, len);
}

/* ------------------------------------------------------------------------------------ */
/* Verdicts                                                                              */
/* ------------------------------------------------------------------------------------ */

static void add_reason(lc_classifier_t *c, lc_verdict_t *v, lc_reason_kind_t kind, size_t field)
{
    c->reasons[v->nreasons++] = (uint32_t)lc_schema_reason_id(c->schema, kind, field);
}

/* Schema checks in schema order, one reason at most per field, on the members
 * index_members found. When the key field is an integer field that
 * converts, *key_int receives its value and *key_int_ok is set. */
static void check_fields(lc_classifier_t *c, lc_verdict_t *v, int64_t *key_int,
                         bool *key_int_ok)
{
    for (size_t f = 0; f < c->nfields; f++) {
        const field_slot_t *fs = &c->fields[f];
        const lc_json_member_t *m = c->found[f];   /* index_members */
        if (!m) {
            if (fs->required)
                add_reason(c, v, LC_R_MISSING, f);
            continue;
        }
        /* The usual case, a string field without constraints: a string without escapes
         * is its own decoded text, so the schema's shortcut decides it without a call.
         * Anything it does not pass takes the general checks. */
        if (fs->plain_string && m->type == LC_JT_STRING && !m->val_escaped &&
            lc_schema_plain_string_passes(m->val, m->val_len))
            continue;
        if (m->type == LC_JT_NULL) {
            add_reason(c, v, LC_R_NULL, f);
            continue;
        }
        size_t len;
        const char *text = member_text(c, m, 0, &len);
        bool is_key = (int)f == c->key_field_idx;
        int64_t iv = 0;
        int r = lc_schema_check_value_with(c->schema, c->matcher, f, m->type, text, len,
                                           is_key ? &iv : NULL);
        if (r >= 0) {
            add_reason(c, v, (lc_reason_kind_t)r, f);
        } else if (is_key && c->key_field_int) {
            *key_int = iv;
            *key_int_ok = true;
        }
    }
}

/* The member of a users field, as index_members found it. */
static const lc_json_member_t *users_member(const lc_classifier_t *c, int idx,
                                            const lc_json_member_t *extra)
{
    return idx >= 0 ? c->found[idx] : extra;
}

static lc_users_match_t look_up_account(lc_classifier_t *c, const lc_users_t *users,
                                        int64_t key_int, bool key_int_ok)
{
    const lc_json_member_t *km = users_member(c, c->key_field_idx, c->key_extra);
    const lc_json_member_t *dm = users_member(c, c->value_field_idx, c->value_extra);
    if (!km || km->type == LC_JT_NULL)
        return LC_USERS_UNKNOWN;

    /* Both values may need decoding at once: room for both, side by side. */
    ensure_scratch(c, (size_t)km->val_len + (dm ? dm->val_len : 0));
    size_t key_len, dev_len = 0;
    const char *key = member_text(c, km, 0, &key_len);
    const char *dev = "";
    if (dm)
        dev = member_text(c, dm, km->val_escaped ? key_len : 0, &dev_len);

    if (lc_users_int_keys(users)) {
        if (!key_int_ok &&
            !lc_text_parse_int64(key, key_len, km->type == LC_JT_NUMBER, &key_int))
            return LC_USERS_UNKNOWN;
        return lc_users_check_int(users, key_int, dev, dev_len);
    }
    return lc_users_check_str(users, key, key_len, dev, dev_len);
}

static void judge_by_users(lc_classifier_t *c, const lc_users_t *users, int64_t key_int,
                           bool key_int_ok, lc_verdict_t *v)
{
    v->status = LC_STATUS_GOOD;
    if (!users)
        return;
    switch (look_up_account(c, users, key_int, key_int_ok)) {
    case LC_USERS_UNKNOWN:
        v->status = c->unknown_account_status;
        add_reason(c, v, LC_R_UNKNOWN_ACCOUNT, 0);
        break;
    case LC_USERS_MISMATCH:
        v->status = LC_STATUS_SUSPICIOUS;
        add_reason(c, v, LC_R_DEVICE_MISMATCH, 0);
        break;
    case LC_USERS_MATCH:
        break;
    }
}

/* ------------------------------------------------------------------------------------ */
/* Output                                                                                */
/* ------------------------------------------------------------------------------------ */

/* Bytes append_classification will write. */
static size_t classification_size(const lc_classifier_t *c, const lc_verdict_t *v)
{
    size_t need = c->tail[v->status].len + 2;
    for (size_t i = 0; i < v->nreasons; i++)
        need += c->reason_len[v->reasons[i]] + 1;
    return need;
}

/* Room the writers below may use past what they write: tails are copied in whole
 * TAIL_COPY-byte blocks. */
#define TAIL_COPY 64

/* Writes `"status":"<label>","reasons":[` reason, reason `]}` at o, which has room for
 * classification_size + TAIL_COPY bytes; returns the end. Short tails (all of them unless
 * the output field names are long) are copied as one fixed-size block. */
static char *write_classification(const lc_classifier_t *c, const lc_verdict_t *v, char *o)
{
    const lc_buf_t *tail = &c->tail[v->status];
    if (tail->len <= TAIL_COPY)
        memcpy(o, tail->data, TAIL_COPY);   /* tail buffers are at least TAIL_COPY long */
    else
        memcpy(o, tail->data, tail->len);
    o += tail->len;
    for (size_t i = 0; i < v->nreasons; i++) {
        if (i)
            *o++ = ',';
        uint32_t id = v->reasons[i];
        memcpy(o, c->reason_json.data + c->reason_off[id], c->reason_len[id]);
        o += c->reason_len[id];
    }
    *o++ = ']';
    *o++ = '}';
    return o;
}

/* `"status":"<label>","reasons":[` reason, reason `]}`, appended. */
static void append_classification(const lc_classifier_t *c, const lc_verdict_t *v,
                                  lc_buf_t *out)
{
    lc_buf_reserve(out, classification_size(c, v) + TAIL_COPY);
    out->len = (size_t)(write_classification(c, v, out->data + out->len) - out->data);
}

/* A record refused as a whole: {"raw":...|"raw_base64":...|"raw_bytes":N, status, reasons}.
 * utf8_ok: the scanner found the whole input valid UTF-8 (lc_json_scan checks it). */
static void emit_refused(lc_classifier_t *c, lc_verdict_t *v, lc_reason_kind_t kind,
                         const char *data, size_t len, bool utf8_ok, lc_buf_t *out)
{
    v->status = LC_STATUS_BAD;
    v->nreasons = 0;
    add_reason(c, v, kind, 0);

    lc_buf_putc(out, '{');
    if (kind == LC_R_TOO_LARGE) {
        lc_buf_printf(out, "\"raw_bytes\":%zu,", len);
    } else if (utf8_ok) {
        lc_buf_append(out, "\"raw\":", 6);
        lc_buf_json_string(out, data, len);
        lc_buf_putc(out, ',');
    } else {
        lc_buf_append(out, "\"raw_base64\":\"", 14);
        lc_buf_base64(out, data, len);
        lc_buf_append(out, "\",", 2);
    }
    append_classification(c, v, out);
}

/* Is `name` (decoded) taken in this record's output: by an input member, an output field,
 * or a name already given to another renamed member? */
static bool output_name_taken(const lc_classifier_t *c, const lc_json_member_t *members,
                              size_t n, size_t nrenamed, const char *name, size_t len)
{
    if ((len == c->status_field_len && memcmp(name, c->status_field, len) == 0) ||
        (len == c->reasons_field_len && memcmp(name, c->reasons_field, len) == 0))
        return true;
    for (size_t i = 0; i < nrenamed; i++) {
        const lc_buf_t *b = &c->renames[i].new_name;
        if (b->len == len && memcmp(b->data, name, len) == 0)
            return true;
    }
    for (size_t i = 0; i < n; i++)
        if (key_is(&members[i], name, len))
            return true;
    return false;
}

/* Gives renames[slot] the first free name of original_<field>, original_original_<field>... */
static void choose_new_name(lc_classifier_t *c, const lc_json_member_t *members, size_t n,
                            size_t slot, const char *field, size_t field_len)
{
    lc_buf_t *cand = &c->candidate;
    lc_buf_reset(cand);
    lc_buf_append(cand, field, field_len);
    do {
        /* prepend "original_" */
        lc_buf_reserve(cand, 9);
        memmove(cand->data + 9, cand->data, cand->len);
        memcpy(cand->data, "original_", 9);
        cand->len += 9;
    } while (output_name_taken(c, members, n, slot, cand->data, cand->len));
    lc_buf_reset(&c->renames[slot].new_name);
    lc_buf_append(&c->renames[slot].new_name, cand->data, cand->len);
}

/* Gives each member index_members found named like an output field (0, 1 or 2 of them,
 * in input order) its new name. */
static void choose_new_names(lc_classifier_t *c, const lc_json_member_t *members, size_t n,
                             size_t nr)
{
    for (size_t i = 0; i < nr; i++) {
        const lc_json_member_t *m = c->renames[i].member;
        if (key_is(m, c->status_field, c->status_field_len))
            choose_new_name(c, members, n, i, c->status_field, c->status_field_len);
        else
            choose_new_name(c, members, n, i, c->reasons_field, c->reasons_field_len);
    }
}

/* Copies obj_start..body_end, writing each renamed member's key under its new name; every
 * other byte is the input's own. */
static void copy_with_renames(const lc_classifier_t *c, size_t nr, const char *obj_start,
                              const char *body_end, lc_buf_t *out)
{
    const char *cursor = obj_start;
    for (size_t i = 0; i < nr; i++) {
        const lc_json_member_t *m = c->renames[i].member;
        const char *open_quote = m->key - 1;
        lc_buf_append(out, cursor, (size_t)(open_quote - cursor));
        lc_buf_json_string(out, c->renames[i].new_name.data, c->renames[i].new_name.len);
        cursor = m->key + m->key_len + 1;   /* past the closing quote */
    }
    lc_buf_append(out, cursor, (size_t)(body_end - cursor));
}

/* The input object's own bytes with the classification added as its last members. White
 * space before the closing '}' is dropped so that the comma sits right after the value. */
static void emit_object(lc_classifier_t *c, const lc_verdict_t *v,
                        const lc_json_member_t *members, size_t n, size_t nr,
                        const char *obj_start, const char *obj_end, lc_buf_t *out)
{
    const char *body_end = obj_end - 1;     /* at the closing '}' */
    while (body_end > obj_start + 1 && lc_json_is_space((unsigned char)body_end[-1]))
        body_end--;
    if (nr > 0)
        choose_new_names(c, members, n, nr);
    size_t body_len = (size_t)(body_end - obj_start);
    if (nr == 0) {
        lc_buf_reserve(out, body_len + 1 + classification_size(c, v) + TAIL_COPY);
        char *o = out->data + out->len;
        memcpy(o, obj_start, body_len);
        o += body_len;
        if (n > 0)
            *o++ = ',';                    /* reserved above */
        out->len = (size_t)(write_classification(c, v, o) - out->data);
        return;
    }
    /* new names may be longer than the old ones: appends that check their room */
    copy_with_renames(c, nr, obj_start, body_end, out);
    lc_buf_putc(out, ',');                 /* nr > 0 means n > 0 */
    append_classification(c, v, out);
}

/* ------------------------------------------------------------------------------------ */
/* Classify                                                                              */
/* ------------------------------------------------------------------------------------ */

void lc_classify(lc_classifier_t *c, const lc_users_t *users,
                 const char *data, size_t len, bool present,
                 lc_verdict_t *v, lc_buf_t *out)
{
    v->status = LC_STATUS_GOOD;
    v->nreasons = 0;
    v->reasons = c->reasons;

    if (!present || len == 0) {
        emit_refused(c, v, LC_R_INVALID_JSON, "", 0, true, out);
        return;
    }
    if (len > c->max_record_bytes) {
        emit_refused(c, v, LC_R_TOO_LARGE, data, len, false, out);
        return;
    }

    bool utf8_ok = false;
    const lc_json_member_t *members = NULL;
    size_t n = 0;
    const char *obj_start = NULL, *obj_end = NULL;
    switch (lc_json_scan(c->scanner, data, len, &utf8_ok, &members, &n, &obj_start, &obj_end)) {
    case LC_JSON_OK:
        break;
    case LC_JSON_NOT_OBJECT:
        emit_refused(c, v, LC_R_NOT_OBJECT, data, len, utf8_ok, out);
        return;
    case LC_JSON_DUPLICATE_KEY:
        emit_refused(c, v, LC_R_DUPLICATE_KEY, data, len, utf8_ok, out);
        return;
    case LC_JSON_INVALID:
    default:
        emit_refused(c, v, LC_R_INVALID_JSON, data, len, utf8_ok, out);
        return;
    }

    int64_t key_int = 0;
    bool key_int_ok = false;
    size_t nrenames = index_members(c, members, n);
    check_fields(c, v, &key_int, &key_int_ok);
    if (v->nreasons > 0)
        v->status = LC_STATUS_BAD;
    else
        judge_by_users(c, users, key_int, key_int_ok, v);
    emit_object(c, v, members, n, nrenames, obj_start, obj_end, out);
}

/* ------------------------------------------------------------------------------------ */
/* Construction                                                                          */
/* ------------------------------------------------------------------------------------ */

/* Formats the output pieces that never change: tails per label and reason strings. */
static void format_output_pieces(lc_classifier_t *c)
{
    for (size_t s = 0; s < LC_STATUS__COUNT; s++) {
        lc_buf_t *t = &c->tail[s];
        lc_buf_json_string(t, c->status_field, c->status_field_len);
        lc_buf_putc(t, ':');
        lc_buf_json_string(t, status_names[s], strlen(status_names[s]));
        lc_buf_putc(t, ',');
        lc_buf_json_string(t, c->reasons_field, c->reasons_field_len);
        lc_buf_append(t, ":[", 2);
        lc_buf_reserve(t, TAIL_COPY);      /* write_classification copies whole blocks */
        memset(t->data + t->len, 0, t->cap - t->len);
    }
    size_t nr = lc_schema_nreasons(c->schema);
    c->reason_off = lc_xcalloc(nr, sizeof(*c->reason_off));
    c->reason_len = lc_xcalloc(nr, sizeof(*c->reason_len));
    for (size_t id = 0; id < nr; id++) {
        const char *name = lc_schema_reason_name(c->schema, id);
        c->reason_off[id] = c->reason_json.len;
        lc_buf_json_string(&c->reason_json, name, strlen(name));
        c->reason_len[id] = c->reason_json.len - c->reason_off[id];
    }
}

static void copy_names(lc_classifier_t *c, const lc_classify_opts_t *o)
{
    c->key_field = lc_xstrdup(o->key_field);
    c->value_field = lc_xstrdup(o->value_field);
    c->status_field = lc_xstrdup(o->status_field);
    c->reasons_field = lc_xstrdup(o->reasons_field);
    c->key_field_len = strlen(c->key_field);
    c->value_field_len = strlen(c->value_field);
    c->status_field_len = strlen(c->status_field);
    c->reasons_field_len = strlen(c->reasons_field);
    c->key_field_idx = lc_schema_field_index(c->schema, c->key_field);
    c->value_field_idx = lc_schema_field_index(c->schema, c->value_field);
    c->key_field_int = c->key_field_idx >= 0 &&
                       lc_schema_field_type(c->schema, (size_t)c->key_field_idx) == LC_FT_INTEGER;
}

static void init_fields(lc_classifier_t *c)
{
    c->nfields = lc_schema_nfields(c->schema);
    c->fields = lc_xcalloc(c->nfields, sizeof(*c->fields));
    c->found = lc_xcalloc(c->nfields, sizeof(*c->found));
    c->reasons = lc_xcalloc(c->nfields + 1, sizeof(*c->reasons));
    for (size_t f = 0; f < c->nfields; f++) {
        c->fields[f].name = lc_schema_field_name(c->schema, f);
        c->fields[f].name_len = strlen(c->fields[f].name);
        c->fields[f].required = lc_schema_field_required(c->schema, f);
        c->fields[f].plain_string = lc_schema_field_plain_string(c->schema, f);
    }
}

/* Adds one name with its roles to the table (roles of a name already there are merged). */
static void add_name(name_entry_t *tab, size_t *ntab, const char *name, int32_t field,
                     uint32_t roles)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < *ntab; i++) {
        if (tab[i].len == len && memcmp(tab[i].name, name, len) == 0) {
            if (field >= 0)
                tab[i].field = field;
            tab[i].roles |= roles;
            return;
        }
    }
    tab[(*ntab)++] = (name_entry_t){name, (uint32_t)len, field, roles, -1};
}

/* The names the classifier looks for, each chained under its fingerprint. */
static void build_names(lc_classifier_t *c)
{
    size_t cap = c->nfields + 4, ntab = 0;
    name_entry_t *tab = lc_xcalloc(cap, sizeof(*tab));
    for (size_t f = 0; f < c->nfields; f++)
        add_name(tab, &ntab, c->fields[f].name, (int32_t)f, 0);
    if (c->key_field_idx < 0)
        add_name(tab, &ntab, c->key_field, -1, ROLE_KEY_EXTRA);
    if (c->value_field_idx < 0)
        add_name(tab, &ntab, c->value_field, -1, ROLE_VALUE_EXTRA);
    add_name(tab, &ntab, c->status_field, -1, ROLE_OUT_STATUS);
    add_name(tab, &ntab, c->reasons_field, -1, ROLE_OUT_REASONS);
    for (size_t b = 0; b < NAME_BUCKETS; b++)
        c->name_bucket[b] = -1;
    for (size_t i = ntab; i-- > 0;) {      /* chained in table order */
        if (tab[i].len == 0)
            continue;                      /* no member name is looked up empty: never found */
        unsigned b = lc_json_name_fp(tab[i].name, tab[i].len);
        tab[i].next = c->name_bucket[b];
        c->name_bucket[b] = (int32_t)i;
    }
    c->name_list = tab;
    c->nnames = ntab;
}

lc_classifier_t *lc_classifier_new(const lc_classify_opts_t *opts)
{
    lc_classifier_t *c = lc_xcalloc(1, sizeof(*c));
    c->schema = opts->schema;
    c->unknown_account_status = opts->unknown_account_status;
    c->max_record_bytes = opts->max_record_bytes;
    copy_names(c, opts);
    init_fields(c);
    build_names(c);
    format_output_pieces(c);
    c->matcher = lc_schema_matcher_new(c->schema);
    c->scanner = lc_json_scanner_new();
    return c;
}

void lc_classifier_free(lc_classifier_t *c)
{
    if (!c)
        return;
    lc_json_scanner_free(c->scanner);
    lc_schema_matcher_free(c->matcher);
    free(c->key_field);
    free(c->value_field);
    free(c->status_field);
    free(c->reasons_field);
    free(c->fields);
    free(c->name_list);
    free(c->found);
    free(c->reasons);
    free(c->scratch);
    for (size_t s = 0; s < LC_STATUS__COUNT; s++)
        lc_buf_free(&c->tail[s]);
    lc_buf_free(&c->reason_json);
    free(c->reason_off);
    free(c->reason_len);
    for (size_t i = 0; i < LC_ARRAY_SIZE(c->renames); i++)
        lc_buf_free(&c->renames[i].new_name);
    lc_buf_free(&c->candidate);
    free(c);
}
