/*
 * lc_users.h - the users snapshot: an immutable account -> device(s) table (CONTRACT §2.2, §5).
 *
 * Built once by a builder, then read concurrently without locks by any number of threads.
 * Integer keys live in an open-addressing table of 64-bit keys whose values are 1, 2 or 4
 * bytes wide (the narrowest that holds this snapshot's device ids; devices are interned
 * once per snapshot): 10 M users with a handful of devices take 2^24 slots of 9 bytes,
 * about 15 bytes a user as lc_users_memory_bytes counts it (users.c has the layout).
 * String keys (when the key field is not an integer) use a separate table with an arena.
 * Devices are normalised once at load: surrounding ASCII white space removed and, when
 * case-insensitive, ASCII lower-cased. A lookup normalises the record's device the same way.
 *
 * Snapshots are reference counted so that a background refresh can replace the current one
 * while batches still hold the old one (see lc_users_source.h).
 */
#ifndef LC_USERS_H
#define LC_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lc_users lc_users_t;
typedef struct lc_users_builder lc_users_builder_t;

typedef enum lc_users_match {
    LC_USERS_UNKNOWN = 0,   /* no row has this account */
    LC_USERS_MATCH,         /* some row of the account has this device */
    LC_USERS_MISMATCH,      /* the account exists, none of its devices is this one */
} lc_users_match_t;

/* int_keys: keys are parsed as integers (CONTRACT §2.2: "0684", "684" and 684 are one account).
 * expected_rows: a sizing hint (0 if unknown; the table is sized for it at once, so it must
 * be honest). Never NULL; the caller owns the builder until lc_users_builder_finish. */
lc_users_builder_t *lc_users_builder_new(bool int_keys, bool case_insensitive, size_t expected_rows);

/* Adds one row. Returns 0 when added (a repeated identical row is fine), 1 when skipped
 * because the key does not convert to an integer (counted), -1 when the row does not fit
 * a snapshot's limits (2^31 distinct devices or device-list entries, a key of 4 GiB). */
int lc_users_builder_add(lc_users_builder_t *b, const char *key, size_t key_len,
                         const char *device, size_t device_len);

/* Finishes the snapshot (refcount 1, owned by the caller) and frees the builder.
 * loaded_at_ms: wall-clock time of the load from the source (kept through the snapshot
 * file). Never NULL. */
lc_users_t *lc_users_builder_finish(lc_users_builder_t *b, int64_t loaded_at_ms);
void lc_users_builder_free(lc_users_builder_t *b);   /* abandon a build */

lc_users_match_t lc_users_check_int(const lc_users_t *u, int64_t key,
                                    const char *device, size_t device_len);
lc_users_match_t lc_users_check_str(const lc_users_t *u, const char *key, size_t key_len,
                                    const char *device, size_t device_len);

bool lc_users_int_keys(const lc_users_t *u);
bool lc_users_case_insensitive(const lc_users_t *u);
size_t lc_users_accounts(const lc_users_t *u);     /* distinct accounts */
size_t lc_users_rows(const lc_users_t *u);         /* rows accepted: distinct (account,
                                                      normalised device) pairs */
size_t lc_users_skipped(const lc_users_t *u);      /* rows skipped: key did not convert */
int64_t lc_users_loaded_at_ms(const lc_users_t *u);
size_t lc_users_memory_bytes(const lc_users_t *u); /* heap bytes held by the snapshot */

void lc_users_ref(lc_users_t *u);     /* atomic */
void lc_users_unref(lc_users_t *u);   /* atomic; frees at zero; NULL is fine */

/*
 * Additions for the loaders and the snapshot file (backwards compatible).
 */

/* Adds one row whose key is already an integer (int_keys builders only: -1 otherwise).
 * Returns 0 when added (or repeated), -1 as lc_users_builder_add. */
int lc_users_builder_add_int(lc_users_builder_t *b, int64_t key,
                             const char *device, size_t device_len);

/* Counts n rows the caller skipped itself (a NULL column from MySQL; the skipped count
 * recorded in a snapshot file): they show in lc_users_skipped. */
void lc_users_builder_count_skipped(lc_users_builder_t *b, size_t n);

/* The snapshot's interned, normalised devices, ids 0 .. lc_users_devices(u) - 1. The name
 * is NUL-terminated, owned by the snapshot, and *len (if len) receives its length. NULL
 * for an id out of range. */
size_t lc_users_devices(const lc_users_t *u);
const char *lc_users_device_name(const lc_users_t *u, size_t id, size_t *len);

/* Calls fn once per row (distinct account, device pair), in no particular order. For
 * integer keys str_key is NULL; for string keys int_key is 0 and str_key (not
 * NUL-terminated) is owned by the snapshot. Stops at fn's first non-zero result and
 * returns it; returns 0 when every row was visited. */
typedef int (*lc_users_row_fn)(void *ctx, int64_t int_key, const char *str_key,
                               size_t str_key_len, uint32_t device_id);
int lc_users_foreach_row(const lc_users_t *u, lc_users_row_fn fn, void *ctx);

/* Snapshot file (users.snapshot_path): written atomically (temporary file in the same
 * directory, fsync, rename). The file records key kind, case mode and loaded_at. */
int lc_users_save(const lc_users_t *u, const char *path, char *errstr, size_t errlen);
lc_users_t *lc_users_load_file(const char *path, bool int_keys, bool case_insensitive,
                               char *errstr, size_t errlen);

/* Pipe mode's users CSV: `account,device` per line, no header; blank lines ignored, a
 * trailing \r dropped; a line without a comma is an error naming its line number. */
lc_users_t *lc_users_load_csv(const char *path, bool int_keys, bool case_insensitive,
                              char *errstr, size_t errlen);

#endif
