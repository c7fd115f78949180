/*
 * users.c - the users snapshot (CONTRACT §2.2, §5): builder, immutable lookup tables, refcount.
 *
 * Layout of a finished snapshot
 *   devices   every distinct normalised device once (devtab_t): NUL-separated bytes plus a
 *             start offset per device. Rows refer to devices by a dense id.
 *   accounts  integer keys: two parallel arrays keys[cap] (int64) and vals[cap], whose
 *             width (1, 2 or 4 bytes) is the smallest that holds every value of this
 *             snapshot. String keys: str_slot_t slots[cap] pointing into an arena that holds
 *             each key as a 4-byte length and its bytes. Both tables: open addressing,
 *             linear probing, power-of-two capacity, load factor <= 0.7.
 *   values    0 = empty slot; 1 .. TAG-1 = device id + 1 of an account with one device;
 *             TAG | off = an account with several devices, listed in the pool:
 *             pool[off] = count, pool[off + 1 .. off + count] = device ids. TAG is the top
 *             bit of the value width.
 *
 * With a handful of devices the values take one byte, so 10 M integer-keyed users cost
 * 2^24 slots * 9 bytes = 151 MB (15 bytes a user); lc_users_memory_bytes counts every
 * array the snapshot holds.
 *
 * The builder keeps 32-bit values (TAG32 | node index for several devices, the devices of
 * an account chained in `nodes`) and a device hash index for interning. Finishing moves
 * the key array into the snapshot when the capacity is already right (else re-inserts),
 * narrows the values and flattens the device chains into the pool.
 *
 * Ownership: a builder owns everything it allocates until lc_users_builder_finish, which
 * moves what it can into the snapshot and frees the builder either way. A snapshot is
 * freed by the lc_users_unref that drops its count to zero. No globals.
 */
#include "lc_users.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lc_common.h"
#include "lc_text.h"

#define TABLE_MIN_CAP 16u
#define TAG32 UINT32_C(0x80000000)
/* Ceilings that keep every builder value below TAG32. */
#define MAX_DEVICES ((size_t)TAG32 - 2u)
#define MAX_POOL ((size_t)TAG32)

/* ------------------------------------------------------------------------------------ */
/* Hashing and normalisation                                                             */
/* ------------------------------------------------------------------------------------ */

/* murmur3's 64-bit finaliser: spreads sequential account numbers over the table. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

static unsigned char fold_byte(unsigned char c, bool fold_case)
{
    return (fold_case && c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Narrows [*p, *p + *n) to the bytes between surrounding ASCII white space. */
static void trim_ascii_space(const char **p, size_t *n)
{
    const unsigned char *s = (const unsigned char *)*p;
    size_t len = *n;
    while (len && lc_text_is_space((char)s[0])) {
        s++;
        len--;
    }
    while (len && lc_text_is_space((char)s[len - 1]))
        len--;
    *p = (const char *)s;
    *n = len;
}

/* FNV-1a over the (optionally case-folded) bytes, finished by mix64. */
static uint64_t hash_bytes(const char *p, size_t n, bool fold_case)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++) {
        h ^= fold_byte((unsigned char)p[i], fold_case);
        h *= UINT64_C(0x100000001b3);
    }
    return mix64(h ^ n);
}

/* True when `stored` (already normalised) equals the raw bytes `p` folded as asked. */
static bool equals_folded(const char *stored, const char *p, size_t n, bool fold_case)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)stored[i] != fold_byte((unsigned char)p[i], fold_case))
            return false;
    return true;
}

/* Smallest power-of-two capacity (>= TABLE_MIN_CAP) that holds n keys at load <= 0.7. */
static size_t table_capacity_for(size_t n)
{
    size_t cap = TABLE_MIN_CAP;
    while (n * 10 > cap * 7)
        cap *= 2;
    return cap;
}

static bool table_needs_growth(size_t used, size_t cap)
{
    return (used + 1) * 10 > cap * 7;
}

/* ------------------------------------------------------------------------------------ */
/* Device table: interned, normalised devices                                            */
/* ------------------------------------------------------------------------------------ */

typedef struct devtab {
    char *bytes;          /* device 0, NUL, device 1, NUL, ... */
    size_t bytes_len, bytes_cap;
    size_t *start;        /* start[id] = offset of device id; start[n] = bytes_len */
    size_t n, start_cap;  /* start_cap counts entries (>= n + 1) */
    uint32_t *index;      /* builder only: id + 1 per slot, 0 = empty; load <= 0.5 */
    size_t index_cap;
} devtab_t;

static size_t devtab_len(const devtab_t *d, size_t id)
{
    return d->start[id + 1] - d->start[id] - 1;
}

static const char *devtab_name(const devtab_t *d, size_t id)
{
    return d->bytes + d->start[id];
}

static void devtab_free(devtab_t *d)
{
    free(d->bytes);
    free(d->start);
    free(d->index);
    memset(d, 0, sizeof *d);
}

static void devtab_init(devtab_t *d)
{
    memset(d, 0, sizeof *d);
    d->start_cap = 8;
    d->start = lc_xcalloc(d->start_cap, sizeof *d->start);
    d->index_cap = 16;
    d->index = lc_xcalloc(d->index_cap, sizeof *d->index);
}

/* Probes the index for the normalised form of (p, n); returns the slot holding it or the
 * empty slot where it would go. */
static size_t devtab_probe(const devtab_t *d, const char *p, size_t n, bool fold_case,
                           uint64_t hash)
{
    size_t mask = d->index_cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        uint32_t slot = d->index[i];
        if (slot == 0)
            return i;
        size_t id = slot - 1;
        if (devtab_len(d, id) == n && equals_folded(devtab_name(d, id), p, n, fold_case))
            return i;
    }
}

static void devtab_grow_index(devtab_t *d)
{
    size_t cap = d->index_cap * 2;
    uint32_t *index = lc_xcalloc(cap, sizeof *index);
    for (size_t id = 0; id < d->n; id++) {
        uint64_t h = hash_bytes(devtab_name(d, id), devtab_len(d, id), false);
        size_t i = (size_t)h & (cap - 1);
        while (index[i])
            i = (i + 1) & (cap - 1);
        index[i] = (uint32_t)(id + 1);
    }
    free(d->index);
    d->index = index;
    d->index_cap = cap;
}

static void devtab_reserve(devtab_t *d, size_t extra_bytes)
{
    if (d->n + 2 > d->start_cap) {
        d->start_cap *= 2;
        d->start = lc_xrealloc(d->start, d->start_cap, sizeof *d->start);
    }
    if (d->bytes_len + extra_bytes > d->bytes_cap) {
        size_t cap = d->bytes_cap ? d->bytes_cap : 64;
        while (cap < d->bytes_len + extra_bytes)
            cap *= 2;
        d->bytes = lc_xrealloc(d->bytes, cap, 1);
        d->bytes_cap = cap;
    }
    if ((d->n + 1) * 2 > d->index_cap)
        devtab_grow_index(d);
}

/* Finds or adds the device whose normalised form is (p, n) folded as asked; -1 when the
 * table is full (MAX_DEVICES). */
static int devtab_intern(devtab_t *d, const char *p, size_t n, bool fold_case, uint32_t *id)
{
    uint64_t h = hash_bytes(p, n, fold_case);
    size_t i = devtab_probe(d, p, n, fold_case, h);
    if (d->index[i]) {
        *id = d->index[i] - 1;
        return 0;
    }
    if (d->n >= MAX_DEVICES)
        return -1;
    devtab_reserve(d, n + 1);
    i = devtab_probe(d, p, n, fold_case, h);   /* the index may have grown */
    char *dst = d->bytes + d->bytes_len;
    for (size_t k = 0; k < n; k++)
        dst[k] = (char)fold_byte((unsigned char)p[k], fold_case);
    dst[n] = '\0';
    d->bytes_len += n + 1;
    *id = (uint32_t)d->n;
    d->index[i] = (uint32_t)(d->n + 1);
    d->n++;
    d->start[d->n] = d->bytes_len;
    return 0;
}

/* Drops the interning index and returns spare capacity: a snapshot only reads. */
static void devtab_shrink_for_snapshot(devtab_t *d)
{
    free(d->index);
    d->index = NULL;
    d->index_cap = 0;
    if (d->bytes_len && d->bytes_len < d->bytes_cap) {
        d->bytes = lc_xrealloc(d->bytes, d->bytes_len, 1);
        d->bytes_cap = d->bytes_len;
    }
    if (d->n + 1 < d->start_cap) {
        d->start_cap = d->n + 1;
        d->start = lc_xrealloc(d->start, d->start_cap, sizeof *d->start);
    }
}

static size_t devtab_memory(const devtab_t *d)
{
    return d->bytes_cap + d->start_cap * sizeof *d->start + d->index_cap * sizeof *d->index;
}

/* ------------------------------------------------------------------------------------ */
/* Types                                                                                 */
/* ------------------------------------------------------------------------------------ */

/* One device of a several-device account while building: next = node index + 1, 0 ends. */
typedef struct list_node {
    uint32_t device;
    uint32_t next;
} list_node_t;

/* A string-key slot: the key lives at arena + key_off as a uint32 length and its bytes. */
typedef struct str_slot {
    uint64_t key_off;
    uint32_t hash;
    uint32_t val;   /* 0 = empty */
} str_slot_t;

/* The string-key table shared by builder and snapshot (a snapshot takes the builder's). */
typedef struct str_table {
    str_slot_t *slots;
    size_t cap;
    char *arena;
    size_t arena_len, arena_cap;
} str_table_t;

struct lc_users_builder {
    bool int_keys;
    bool case_insensitive;
    size_t accounts, rows, skipped;
    devtab_t devices;
    list_node_t *nodes;
    size_t n_nodes, nodes_cap;
    size_t multi_accounts;   /* accounts with several devices: pool needs one count each */
    /* integer keys */
    int64_t *keys;
    uint32_t *vals;
    size_t cap;
    /* string keys */
    str_table_t str;
};

struct lc_users {
    atomic_size_t refs;
    bool int_keys;
    bool case_insensitive;
    size_t accounts, rows, skipped;
    int64_t loaded_at_ms;
    devtab_t devices;
    uint32_t *pool;
    size_t pool_len;
    uint32_t tag;            /* top bit of the value width */
    /* integer keys */
    int64_t *keys;
    void *vals;              /* cap values of val_width bytes */
    unsigned val_width;
    size_t cap;
    /* string keys */
    str_table_t str;
};

/* ------------------------------------------------------------------------------------ */
/* String-key table                                                                      */
/* ------------------------------------------------------------------------------------ */

static uint32_t str_key_len(const str_table_t *t, uint64_t off)
{
    uint32_t len;
    memcpy(&len, t->arena + off, sizeof len);
    return len;
}

static const char *str_key_bytes(const str_table_t *t, uint64_t off)
{
    return t->arena + off + sizeof(uint32_t);
}

static uint32_t hash_str_key(const char *key, size_t len)
{
    return (uint32_t)hash_bytes(key, len, false);
}

/* The slot holding key, or the empty slot where it would go. */
static size_t str_probe(const str_table_t *t, const char *key, size_t len, uint32_t hash)
{
    size_t mask = t->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        const str_slot_t *s = &t->slots[i];
        if (s->val == 0)
            return i;
        if (s->hash == hash && str_key_len(t, s->key_off) == len &&
            (len == 0 || memcmp(str_key_bytes(t, s->key_off), key, len) == 0))
            return i;
    }
}

static void str_table_resize(str_table_t *t, size_t cap)
{
    str_slot_t *slots = lc_xcalloc(cap, sizeof *slots);
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slots[i].val == 0)
            continue;
        size_t j = t->slots[i].hash & (cap - 1);
        while (slots[j].val)
            j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
}

static void str_arena_append(str_table_t *t, const char *key, uint32_t len, uint64_t *off)
{
    size_t need = sizeof len + len;
    if (t->arena_len + need > t->arena_cap) {
        size_t cap = t->arena_cap ? t->arena_cap : 4096;
        while (cap < t->arena_len + need)
            cap *= 2;
        t->arena = lc_xrealloc(t->arena, cap, 1);
        t->arena_cap = cap;
    }
    *off = t->arena_len;
    memcpy(t->arena + t->arena_len, &len, sizeof len);
    if (len)
        memcpy(t->arena + t->arena_len + sizeof len, key, len);
    t->arena_len += need;
}

static void str_table_free(str_table_t *t)
{
    free(t->slots);
    free(t->arena);
    memset(t, 0, sizeof *t);
}

/* ------------------------------------------------------------------------------------ */
/* Builder                                                                               */
/* ------------------------------------------------------------------------------------ */

/* Asks for transparent huge pages on a large table before it is first written: a lookup is
 * one random access, and with 4 KiB pages a 10 M-user table costs a TLB miss (a page walk
 * that itself misses the cache) on top of the data's cache miss. Advice only: without THP
 * nothing changes. */
static void advise_huge(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (!p || bytes < 2 * huge)
        return;
    uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (end > start)
        (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

static void builder_alloc_table(lc_users_builder_t *b, size_t cap)
{
    if (b->int_keys) {
        b->keys = lc_xmalloc(cap * sizeof *b->keys);
        b->vals = lc_xcalloc(cap, sizeof *b->vals);
        advise_huge(b->keys, cap * sizeof *b->keys);
        advise_huge(b->vals, cap * sizeof *b->vals);
    } else {
        b->str.slots = lc_xcalloc(cap, sizeof *b->str.slots);
    }
    b->cap = cap;
    b->str.cap = b->int_keys ? 0 : cap;
}

lc_users_builder_t *lc_users_builder_new(bool int_keys, bool case_insensitive, size_t expected_rows)
{
    lc_users_builder_t *b = lc_xcalloc(1, sizeof *b);
    b->int_keys = int_keys;
    b->case_insensitive = case_insensitive;
    devtab_init(&b->devices);
    if (expected_rows > ((size_t)1 << 31))
        expected_rows = (size_t)1 << 31;   /* a hint, not a promise: grow past it */
    builder_alloc_table(b, table_capacity_for(expected_rows));
    return b;
}

void lc_users_builder_free(lc_users_builder_t *b)
{
    if (!b)
        return;
    devtab_free(&b->devices);
    free(b->nodes);
    free(b->keys);
    free(b->vals);
    str_table_free(&b->str);
    free(b);
}

void lc_users_builder_count_skipped(lc_users_builder_t *b, size_t n)
{
    b->skipped += n;
}

/* -1 when the device lists are full (MAX_POOL). */
static int builder_new_node(lc_users_builder_t *b, uint32_t device, uint32_t next,
                            uint32_t *index)
{
    if (b->n_nodes + b->multi_accounts + 2 > MAX_POOL)
        return -1;
    if (b->n_nodes == b->nodes_cap) {
        b->nodes_cap = b->nodes_cap ? b->nodes_cap * 2 : 64;
        b->nodes = lc_xrealloc(b->nodes, b->nodes_cap, sizeof *b->nodes);
    }
    b->nodes[b->n_nodes] = (list_node_t){ .device = device, .next = next };
    *index = (uint32_t)b->n_nodes++;
    return 0;
}

/* True when the chain starting at node `head` already names `device`. */
static bool chain_contains(const lc_users_builder_t *b, uint32_t head, uint32_t device)
{
    for (uint32_t n = head + 1; n; n = b->nodes[n - 1].next)
        if (b->nodes[n - 1].device == device)
            return true;
    return false;
}

/* Adds `device` to the account whose builder value is *val (0 for a new account).
 * A repeated (account, device) changes nothing. */
static int attach_device(lc_users_builder_t *b, uint32_t *val, uint32_t device)
{
    uint32_t v = *val, first, second;
    if (v == 0) {
        *val = device + 1;
    } else if (!(v & TAG32)) {
        if (v - 1 == device)
            return 0;
        if (builder_new_node(b, v - 1, 0, &first) < 0 ||
            builder_new_node(b, device, first + 1, &second) < 0)
            return -1;
        *val = TAG32 | second;
        b->multi_accounts++;
    } else {
        uint32_t head = v & ~TAG32;
        if (chain_contains(b, head, device))
            return 0;
        if (builder_new_node(b, device, head + 1, &first) < 0)
            return -1;
        *val = TAG32 | first;
    }
    b->rows++;
    return 0;
}

static size_t int_home(int64_t key, size_t cap)
{
    return (size_t)mix64((uint64_t)key) & (cap - 1);
}

/* The builder slot holding key, or the empty slot where it would go. */
static size_t builder_int_probe(const lc_users_builder_t *b, int64_t key)
{
    size_t mask = b->cap - 1;
    for (size_t i = int_home(key, b->cap);; i = (i + 1) & mask)
        if (b->vals[i] == 0 || b->keys[i] == key)
            return i;
}

static void builder_grow_int_table(lc_users_builder_t *b)
{
    size_t cap = b->cap * 2;
    int64_t *keys = lc_xmalloc(cap * sizeof *keys);
    uint32_t *vals = lc_xcalloc(cap, sizeof *vals);
    advise_huge(keys, cap * sizeof *keys);
    advise_huge(vals, cap * sizeof *vals);
    for (size_t i = 0; i < b->cap; i++) {
        if (b->vals[i] == 0)
            continue;
        size_t j = int_home(b->keys[i], cap);
        while (vals[j])
            j = (j + 1) & (cap - 1);
        keys[j] = b->keys[i];
        vals[j] = b->vals[i];
    }
    free(b->keys);
    free(b->vals);
    b->keys = keys;
    b->vals = vals;
    b->cap = cap;
}

static int intern_row_device(lc_users_builder_t *b, const char *device, size_t device_len,
                             uint32_t *id)
{
    trim_ascii_space(&device, &device_len);
    return devtab_intern(&b->devices, device, device_len, b->case_insensitive, id);
}

int lc_users_builder_add_int(lc_users_builder_t *b, int64_t key,
                             const char *device, size_t device_len)
{
    uint32_t device_id;
    if (!b->int_keys || intern_row_device(b, device, device_len, &device_id) < 0)
        return -1;
    size_t i = builder_int_probe(b, key);
    if (b->vals[i] == 0) {
        if (table_needs_growth(b->accounts, b->cap)) {
            builder_grow_int_table(b);
            i = builder_int_probe(b, key);
        }
        b->keys[i] = key;
        b->accounts++;
    }
    int rc = attach_device(b, &b->vals[i], device_id);
    if (rc < 0 && b->vals[i] == 0)
        b->accounts--;   /* the new slot stays empty */
    return rc;
}

static int builder_add_str(lc_users_builder_t *b, const char *key, size_t key_len,
                           const char *device, size_t device_len)
{
    uint32_t device_id;
    if (key_len > UINT32_MAX - sizeof(uint32_t) ||
        intern_row_device(b, device, device_len, &device_id) < 0)
        return -1;
    str_table_t *t = &b->str;
    uint32_t hash = hash_str_key(key, key_len);
    size_t i = str_probe(t, key, key_len, hash);
    if (t->slots[i].val == 0) {
        if (table_needs_growth(b->accounts, t->cap)) {
            str_table_resize(t, t->cap * 2);
            b->cap = t->cap;
            i = str_probe(t, key, key_len, hash);
        }
        uint64_t off;
        str_arena_append(t, key, (uint32_t)key_len, &off);
        t->slots[i].key_off = off;
        t->slots[i].hash = hash;
        b->accounts++;
    }
    /* A new slot's val is 0 until attach_device succeeds; on failure the arena keeps a
     * few unused bytes and the builder stays consistent (the account is not counted). */
    int rc = attach_device(b, &t->slots[i].val, device_id);
    if (rc < 0 && t->slots[i].val == 0)
        b->accounts--;
    return rc;
}

int lc_users_builder_add(lc_users_builder_t *b, const char *key, size_t key_len,
                         const char *device, size_t device_len)
{
    if (!b->int_keys)
        return builder_add_str(b, key, key_len, device, device_len);
    int64_t k;
    if (!lc_text_parse_int64(key, key_len, false, &k)) {
        b->skipped++;
        return 1;
    }
    return lc_users_builder_add_int(b, k, device, device_len);
}

/* ------------------------------------------------------------------------------------ */
/* Finishing: builder -> snapshot                                                        */
/* ------------------------------------------------------------------------------------ */

/* The smallest value width whose TAG exceeds every single-device value and pool offset. */
static unsigned value_width_for(size_t n_devices, size_t pool_len)
{
    static const unsigned widths[] = { 1, 2 };
    for (size_t i = 0; i < LC_ARRAY_SIZE(widths); i++) {
        size_t tag = (size_t)1 << (8 * widths[i] - 1);
        if (n_devices < tag && pool_len <= tag)
            return widths[i];
    }
    return 4;
}

static uint32_t load_val(const void *vals, unsigned width, size_t i)
{
    switch (width) {
    case 1: return ((const uint8_t *)vals)[i];
    case 2: return ((const uint16_t *)vals)[i];
    default: return ((const uint32_t *)vals)[i];
    }
}

static void store_val(void *vals, unsigned width, size_t i, uint32_t v)
{
    switch (width) {
    case 1: ((uint8_t *)vals)[i] = (uint8_t)v; break;
    case 2: ((uint16_t *)vals)[i] = (uint16_t)v; break;
    default: ((uint32_t *)vals)[i] = v; break;
    }
}

/* Converts a builder value into the snapshot's encoding, copying a device chain into the
 * pool (u->pool has room: its size was computed from the builder's counts). */
static uint32_t finish_value(const lc_users_builder_t *b, lc_users_t *u, uint32_t v)
{
    if (!(v & TAG32))
        return v;
    size_t off = u->pool_len, count = 0;
    for (uint32_t n = (v & ~TAG32) + 1; n; n = b->nodes[n - 1].next)
        u->pool[off + 1 + count++] = b->nodes[n - 1].device;
    u->pool[off] = (uint32_t)count;
    u->pool_len += 1 + count;
    return u->tag | (uint32_t)off;
}

static size_t snapshot_int_probe(const lc_users_t *u, int64_t key)
{
    size_t mask = u->cap - 1;
    for (size_t i = int_home(key, u->cap);; i = (i + 1) & mask)
        if (load_val(u->vals, u->val_width, i) == 0 || u->keys[i] == key)
            return i;
}

static void finish_int_table(lc_users_builder_t *b, lc_users_t *u)
{
    size_t cap = table_capacity_for(b->accounts);
    bool same_layout = cap == b->cap;   /* then every key stays in its slot */
    u->cap = cap;
    u->val_width = value_width_for(b->devices.n, b->multi_accounts + b->n_nodes);
    u->tag = (uint32_t)1 << (8 * u->val_width - 1);
    u->vals = lc_xcalloc(cap, u->val_width);
    advise_huge(u->vals, cap * u->val_width);
    if (same_layout) {
        u->keys = b->keys;   /* moved */
        b->keys = NULL;
    } else {
        u->keys = lc_xmalloc(cap * sizeof *u->keys);
        advise_huge(u->keys, cap * sizeof *u->keys);
    }
    for (size_t i = 0; i < b->cap; i++) {
        uint32_t v = b->vals[i];
        if (v == 0)
            continue;
        int64_t key = same_layout ? u->keys[i] : b->keys[i];
        size_t j = same_layout ? i : snapshot_int_probe(u, key);
        u->keys[j] = key;
        store_val(u->vals, u->val_width, j, finish_value(b, u, v));
    }
}

static void finish_str_table(lc_users_builder_t *b, lc_users_t *u)
{
    str_table_t *t = &b->str;
    size_t cap = table_capacity_for(b->accounts);
    if (cap != t->cap)
        str_table_resize(t, cap);
    u->val_width = 4;
    u->tag = TAG32;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].val)
            t->slots[i].val = finish_value(b, u, t->slots[i].val);
    if (t->arena_len && t->arena_len < t->arena_cap) {
        t->arena = lc_xrealloc(t->arena, t->arena_len, 1);
        t->arena_cap = t->arena_len;
    }
    u->str = *t;
    u->cap = t->cap;
    memset(t, 0, sizeof *t);   /* moved */
}

static void snapshot_free(lc_users_t *u)
{
    devtab_free(&u->devices);
    free(u->pool);
    free(u->keys);
    free(u->vals);
    str_table_free(&u->str);
    free(u);
}

lc_users_t *lc_users_builder_finish(lc_users_builder_t *b, int64_t loaded_at_ms)
{
    lc_users_t *u = lc_xcalloc(1, sizeof *u);
    u->int_keys = b->int_keys;
    u->case_insensitive = b->case_insensitive;
    u->accounts = b->accounts;
    u->rows = b->rows;
    u->skipped = b->skipped;
    u->loaded_at_ms = loaded_at_ms;
    size_t pool_size = b->multi_accounts + b->n_nodes;
    if (pool_size)
        u->pool = lc_xmalloc(pool_size * sizeof *u->pool);
    if (b->int_keys)
        finish_int_table(b, u);
    else
        finish_str_table(b, u);
    u->devices = b->devices;
    memset(&b->devices, 0, sizeof b->devices);   /* moved */
    devtab_shrink_for_snapshot(&u->devices);
    atomic_init(&u->refs, 1);
    lc_users_builder_free(b);
    return u;
}

/* ------------------------------------------------------------------------------------ */
/* Lookups                                                                               */
/* ------------------------------------------------------------------------------------ */

static bool device_is(const lc_users_t *u, uint32_t id, const char *dev, size_t n)
{
    return devtab_len(&u->devices, id) == n &&
           equals_folded(devtab_name(&u->devices, id), dev, n, u->case_insensitive);
}

/* Compares the record's device (raw bytes) with the devices of the account whose value
 * is v; normalises on the fly, so nothing is allocated or copied. */
static lc_users_match_t match_device(const lc_users_t *u, uint32_t v,
                                     const char *device, size_t device_len)
{
    trim_ascii_space(&device, &device_len);
    if (!(v & u->tag))
        return device_is(u, v - 1, device, device_len) ? LC_USERS_MATCH : LC_USERS_MISMATCH;
    const uint32_t *list = u->pool + (v & ~u->tag);
    for (uint32_t k = 0; k < list[0]; k++)
        if (device_is(u, list[1 + k], device, device_len))
            return LC_USERS_MATCH;
    return LC_USERS_MISMATCH;
}

static uint32_t lookup_int(const lc_users_t *u, int64_t key)
{
    return load_val(u->vals, u->val_width, snapshot_int_probe(u, key));
}

static uint32_t lookup_str(const lc_users_t *u, const char *key, size_t key_len)
{
    if (key_len > UINT32_MAX)
        return 0;
    size_t i = str_probe(&u->str, key, key_len, hash_str_key(key, key_len));
    return u->str.slots[i].val;
}

lc_users_match_t lc_users_check_int(const lc_users_t *u, int64_t key,
                                    const char *device, size_t device_len)
{
    uint32_t v;
    if (u->int_keys) {
        v = lookup_int(u, key);
    } else {
        /* A string-keyed snapshot asked with an integer: compare its decimal text. */
        char text[24];
        int n = snprintf(text, sizeof text, "%lld", (long long)key);
        v = lookup_str(u, text, (size_t)n);
    }
    return v ? match_device(u, v, device, device_len) : LC_USERS_UNKNOWN;
}

lc_users_match_t lc_users_check_str(const lc_users_t *u, const char *key, size_t key_len,
                                    const char *device, size_t device_len)
{
    uint32_t v;
    if (u->int_keys) {
        int64_t k;
        v = lc_text_parse_int64(key, key_len, false, &k) ? lookup_int(u, k) : 0;
    } else {
        v = lookup_str(u, key, key_len);
    }
    return v ? match_device(u, v, device, device_len) : LC_USERS_UNKNOWN;
}

/* ------------------------------------------------------------------------------------ */
/* Accessors, iteration, refcount                                                        */
/* ------------------------------------------------------------------------------------ */

bool lc_users_int_keys(const lc_users_t *u) { return u->int_keys; }
bool lc_users_case_insensitive(const lc_users_t *u) { return u->case_insensitive; }
size_t lc_users_accounts(const lc_users_t *u) { return u->accounts; }
size_t lc_users_rows(const lc_users_t *u) { return u->rows; }
size_t lc_users_skipped(const lc_users_t *u) { return u->skipped; }
int64_t lc_users_loaded_at_ms(const lc_users_t *u) { return u->loaded_at_ms; }

size_t lc_users_memory_bytes(const lc_users_t *u)
{
    return sizeof *u + devtab_memory(&u->devices) + u->pool_len * sizeof *u->pool +
           (u->keys ? u->cap * sizeof *u->keys : 0) + (u->vals ? u->cap * u->val_width : 0) +
           u->str.cap * sizeof *u->str.slots + u->str.arena_cap;
}

size_t lc_users_devices(const lc_users_t *u)
{
    return u->devices.n;
}

const char *lc_users_device_name(const lc_users_t *u, size_t id, size_t *len)
{
    if (id >= u->devices.n)
        return NULL;
    if (len)
        *len = devtab_len(&u->devices, id);
    return devtab_name(&u->devices, id);
}

/* Calls fn for each device of the account whose value is v. */
static int foreach_device(const lc_users_t *u, uint32_t v, lc_users_row_fn fn, void *ctx,
                          int64_t int_key, const char *str_key, size_t str_key_len)
{
    if (!(v & u->tag))
        return fn(ctx, int_key, str_key, str_key_len, v - 1);
    const uint32_t *list = u->pool + (v & ~u->tag);
    for (uint32_t k = 0; k < list[0]; k++) {
        int rc = fn(ctx, int_key, str_key, str_key_len, list[1 + k]);
        if (rc)
            return rc;
    }
    return 0;
}

int lc_users_foreach_row(const lc_users_t *u, lc_users_row_fn fn, void *ctx)
{
    for (size_t i = 0; i < u->cap; i++) {
        int rc = 0;
        if (u->int_keys) {
            uint32_t v = load_val(u->vals, u->val_width, i);
            if (v)
                rc = foreach_device(u, v, fn, ctx, u->keys[i], NULL, 0);
        } else if (u->str.slots[i].val) {
            const str_slot_t *s = &u->str.slots[i];
            rc = foreach_device(u, s->val, fn, ctx, 0, str_key_bytes(&u->str, s->key_off),
                                str_key_len(&u->str, s->key_off));
        }
        if (rc)
            return rc;
    }
    return 0;
}

void lc_users_ref(lc_users_t *u)
{
    atomic_fetch_add_explicit(&u->refs, 1, memory_order_relaxed);
}

void lc_users_unref(lc_users_t *u)
{
    if (!u)
        return;
    /* acq_rel rather than release + an acquire fence: the same instruction on x86, and
     * ThreadSanitizer, which ignores stand-alone fences, sees the order too. */
    if (atomic_fetch_sub_explicit(&u->refs, 1, memory_order_acq_rel) == 1) {
        snapshot_free(u);
    }
}
