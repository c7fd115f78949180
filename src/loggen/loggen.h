/*
 * loggen.h - loggen, the load generator and test oracle for logclassify: the internal
 * interface shared only by the files in src/loggen/.
 *
 * Writes JSON server-log records to Kafka (or to standard output, one per line) and knows,
 * for every record, the label and the reason logclassify must give it under the DEFAULT
 * configuration (CONTRACT §1-§3): the default schema, users.unknown_account = suspicious,
 * case-insensitive devices, and input.max_record_bytes = --max-record-bytes. It also writes
 * the users table those labels assume (--users-csv, --users-sql) and the expected counts
 * (--truth), which the integration tests compare with logclassify's counts exactly.
 *
 * Why the truth is exact and not statistical: every bad record is broken in exactly one way
 * (one document-level defect, or one schema field), so it has exactly one reason; every
 * other record is built from a known account and a device chosen against the users table.
 * The shares are exact too: the label of each record is drawn by selection sampling, so
 * round(count * share) records get it, at random places.
 *
 * Everything random comes from xoshiro256** generators seeded from --seed, one stream per
 * purpose, so the same seed and arguments give byte-identical records, keys and files.
 *
 * Files: rng.c (PRNG) · truth.c (reasons and truth) · users_table.c (users table) · draft.c
 * (drafting a record) · generator.c (one function per kind of record, the generator) ·
 * sink.c (stdout, Kafka) · pacing.c (pacing and progress) · main.c (command line, main).
 *
 * Depends only on lc_common.h (lc_buf_t) and librdkafka, so it builds while the service's
 * modules are being written.
 */
#ifndef LOGGEN_H
#define LOGGEN_H

#include "lc_common.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>

/* ---- main.c: the command line ------------------------------------------------------ */

typedef struct options {
    const char *brokers;
    const char *topic;
    uint64_t count;
    double rate;
    uint64_t seed;
    uint64_t users;
    double bad_share;
    double suspicious_share;
    uint64_t max_record_bytes;
    int64_t too_large;              /* -1: the default (1 per 100,000) */
    const char *users_csv;
    const char *users_sql;
    const char *truth_path;
    bool to_stdout;
    const char **properties;        /* -X key=value, in command-line order */
    size_t nproperties;
} options_t;

/* ---- rng.c ------------------------------------------------------------------------- */

typedef struct rng {
    uint64_t s[4];
} rng_t;

/* Independent streams, so that e.g. the users table does not change when --count does. */
enum rng_stream { STREAM_USERS = 1, STREAM_USERS_CSV, STREAM_USERS_SQL, STREAM_RECORDS };

void rng_init(rng_t *r, uint64_t seed, enum rng_stream stream);
uint64_t rng_next(rng_t *r);
/* Uniform in [0, n), n > 0. Rejection keeps it unbiased for any n. */
uint64_t rng_below(rng_t *r, uint64_t n);
bool rng_percent(rng_t *r, unsigned percent);
#define RNG_PICK(r, array) ((array)[rng_below((r), LC_ARRAY_SIZE(array))])
/* `name` in a random mix of ASCII case: as is (upper), lower, Capitalised, or per letter. */
void vary_case(rng_t *r, const char *name, char *out, size_t cap);

/* ---- truth.c: reasons and the expected counts -------------------------------------- */

/* The default schema (CONTRACT §3), in schema order. */
enum field { F_EVENT_ID, F_ACCOUNT_ID, F_EVENT_TYPE, F_DEVICE, F_COUNTRY, F_TIMESTAMP, NFIELDS };

extern const char *const FIELD_NAMES[NFIELDS];
extern const char *const FIELD_NAMES_JSON[NFIELDS];

/* Field checks a default schema can fail (no max_length, enum or pattern there). */
enum check { C_MISSING, C_NULL, C_TYPE, C_EMPTY, NCHECKS };

enum reason {
    R_NONE = -1,
    R_TOO_LARGE,
    R_INVALID_JSON,
    R_NOT_OBJECT,
    R_DUPLICATE_KEY,
    R_UNKNOWN_ACCOUNT,
    R_DEVICE_MISMATCH,
    R_FIRST_FIELD,                                   /* then NCHECKS per field */
    NREASONS = R_FIRST_FIELD + NFIELDS * NCHECKS
};

enum label { L_GOOD, L_BAD, L_SUSPICIOUS, NLABELS };

typedef struct truth {
    uint64_t count;
    uint64_t labels[NLABELS];
    uint64_t reasons[NREASONS];
} truth_t;

void truth_add(truth_t *t, int label, int reason);
void truth_print(const truth_t *t, FILE *f);
/* {"count":N,"labels":{...},"reasons":{...}}: only reasons that occurred, sorted. */
int truth_write_json(const truth_t *t, const char *path, char *errstr, size_t errlen);

/* ---- users_table.c ----------------------------------------------------------------- */

/* Device names of the users table (users_table.c checks that NDEVICES is their number). */
#define NDEVICES 6
extern const char *const DEVICES[];
#define NO_DEVICE 0xFF

typedef struct users_table {
    uint64_t n;
    uint8_t *primary;  /* [n]: device index of account i+1 */
    uint8_t *second;   /* [n]: another device index, or NO_DEVICE */
} users_table_t;

void users_generate(users_table_t *u, uint64_t n, uint64_t seed);
void users_free(users_table_t *u);
bool users_has_device(const users_table_t *u, uint64_t account, int device);
/* One of the account's devices (primary or second). */
int users_pick_device(const users_table_t *u, rng_t *r, uint64_t account);
/* Pipe mode's users CSV (CONTRACT §7): `account,device` per line, no header. */
int users_write_csv(const users_table_t *u, uint64_t seed, const char *path,
                    char *errstr, size_t errlen);
/* SQL for MySQL: empties `users`, then multi-row INSERTs of SQL_ROWS_PER_INSERT rows. */
int users_write_sql(const users_table_t *u, uint64_t seed, const char *path,
                    char *errstr, size_t errlen);

/* ---- draft.c: one record as members of JSON text ----------------------------------- */

#define TEXT_CAP 160
#define MAX_MEMBERS 24

/* A member as JSON text: `name` usually includes its quotes, `value` is any text at all
 * (the bad-record recipes put broken JSON there on purpose). */
typedef struct member {
    const char *name;
    const char *value;
} member_t;

typedef struct draft {
    char field_text[NFIELDS][TEXT_CAP];
    bool field_present[NFIELDS];
    char scratch_name[TEXT_CAP];    /* storage for one computed member name */
    char scratch_value[TEXT_CAP];   /* storage for one computed member value */
    member_t members[MAX_MEMBERS];
    size_t nmembers;
    char key[32];                   /* message key; empty: no key */
} draft_t;

/* Valid JSON white space between tokens: none, after separators, or around everything. */
enum style { STYLE_COMPACT, STYLE_SPACED, STYLE_LOOSE };

void draft_reset(draft_t *d);
void draft_setf(draft_t *d, int field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void draft_add_member(draft_t *d, const char *name, const char *value);
/* Every field valid, for `account` and device `device_name`. */
void draft_fill_fields(rng_t *r, draft_t *d, int64_t account, const char *device_name);
/* Turns the present fields into members, in schema order. */
void draft_collect_fields(draft_t *d);
/* Sometimes one to three distinct members outside the schema. */
void draft_add_extras(rng_t *r, draft_t *d);
/* Member order carries no meaning; sometimes shuffle it (Fisher-Yates). */
void draft_maybe_shuffle(rng_t *r, draft_t *d);
enum style pick_style(rng_t *r);
/* Renders the members as an object into out (reset first). Never writes a raw newline. */
void draft_render(const draft_t *d, enum style style, lc_buf_t *out);

/* ---- generator.c ------------------------------------------------------------------- */

typedef struct record {
    lc_buf_t value;
    bool tombstone;                 /* no value at all (Kafka only) */
    char key[32];                   /* empty: no key */
    int label;
    int reason;
} record_t;

typedef struct generator {
    const options_t *opt;
    const users_table_t *users;
    rng_t rng;
    /* What is still to come; selection sampling draws from these, so the totals are exact. */
    uint64_t records_left;
    uint64_t bad_left;
    uint64_t too_large_left;
    uint64_t suspicious_left;
    uint64_t mismatch_left;
    /* Bad reasons other than too_large, taken in turn so that every one of them occurs. */
    int bad_cycle[NREASONS];
    size_t bad_cycle_len;
    size_t bad_cycle_pos;
    draft_t draft;
    lc_buf_t scratch;
} generator_t;

void generator_init(generator_t *g, const options_t *opt, const users_table_t *users);
void generator_free(generator_t *g);
/* The next record and the label and reason logclassify must give it. */
void generator_next(generator_t *g, record_t *rec);

/* ---- sink.c ------------------------------------------------------------------------ */

typedef struct sink {
    const options_t *opt;
    FILE *out;                      /* --stdout */
    rd_kafka_t *rk;                 /* otherwise */
    uint64_t written;               /* handed over: written, or queued in librdkafka */
    uint64_t delivered;             /* written, or acknowledged by the broker */
    uint64_t failed;
    char first_error[256];
} sink_t;

/* Returns 0; -1 for a bad -X property (usage); -2 when Kafka cannot be reached. */
int sink_open(sink_t *s, const options_t *opt, char *errstr, size_t errlen);
int sink_write(sink_t *s, const record_t *rec);
/* Waits up to ms milliseconds, serving delivery reports meanwhile. */
void sink_idle(sink_t *s, int ms);
uint64_t sink_in_flight(const sink_t *s);
void sink_note_failure(sink_t *s, const char *what);
void sink_close(sink_t *s);

/* ---- pacing.c ---------------------------------------------------------------------- */

typedef struct pacer {
    double rate;        /* tokens (records) per second; 0: no pacing */
    double burst;       /* bucket size */
    double tokens;
    int64_t last_us;
} pacer_t;

typedef struct progress {
    int64_t start_ms;
    int64_t last_ms;
    uint64_t last_written;
} progress_t;

void pacer_init(pacer_t *p, double rate);
/* Microseconds to wait before the next record may go; 0 takes a token and lets it go. */
int64_t pacer_wait_us(pacer_t *p);
void progress_init(progress_t *p);
/* Once a second: the rate over the last second. At the end (final): the average rate. */
void progress_print(progress_t *p, const sink_t *s, uint64_t total, bool final);

#endif
