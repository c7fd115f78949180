/*
 * users_file.c - the users snapshot file (users.snapshot_path, CONTRACT §5) and pipe mode's
 * users CSV (CONTRACT §7).
 *
 * Snapshot file format, version 1. Every integer is little-endian.
 *
 *   header   8  magic "LCUSERS1"
 *            4  version (1)
 *            4  flags: bit 0 integer keys, bit 1 case-insensitive devices
 *            8  loaded_at_ms (signed)
 *            8  accounts
 *            8  rows
 *            8  skipped
 *            8  devices
 *   devices  per device: 4 length, then the normalised bytes
 *   rows     integer keys: 8 key (signed), 4 device id
 *            string keys:  4 key length, key bytes, 4 device id
 *   trailer  8  checksum of every byte before it (checksum64 below)
 *
 * The file is written to a temporary file in the same directory, flushed, fsync'd and
 * renamed over the old one, then the directory is fsync'd: a reader sees the old file or
 * the new one, never a mix. A torn or corrupt file fails its size or checksum check and
 * is refused whole; loading re-builds the snapshot through the builder.
 */
#include "lc_users.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lc_common.h"
#include "lc_text.h"

#define SNAPSHOT_MAGIC "LCUSERS1"
#define SNAPSHOT_VERSION 1u
#define FLAG_INT_KEYS 1u
#define FLAG_CASE_INSENSITIVE 2u
#define HEADER_BYTES 56u
#define TRAILER_BYTES 8u
#define WRITE_BUFFER_BYTES ((size_t)1 << 20)   /* a multiple of 8 (see checksum64) */

/* ------------------------------------------------------------------------------------ */
/* checksum64: a streaming 64-bit checksum over 8-byte little-endian words               */
/* ------------------------------------------------------------------------------------ */

typedef struct checksum64 {
    uint64_t h;
    uint64_t total;     /* bytes seen */
    uint64_t carry;     /* bytes of an incomplete word */
    unsigned ncarry;
} checksum64_t;

static uint64_t rotl64(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64 - r));
}

static void checksum64_word(checksum64_t *c, uint64_t w)
{
    c->h = rotl64(c->h ^ (w * UINT64_C(0x87c37b91114253d5)), 31) * UINT64_C(0x4cf5ad432745937f) +
           UINT64_C(0x52dce729);
}

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void checksum64_init(checksum64_t *c)
{
    memset(c, 0, sizeof *c);
    c->h = UINT64_C(0x9e3779b97f4a7c15);
}

static void checksum64_update(checksum64_t *c, const void *data, size_t n)
{
    const unsigned char *p = data;
    c->total += n;
    while (n && c->ncarry) {
        c->carry |= (uint64_t)*p++ << (8 * c->ncarry);
        n--;
        if (++c->ncarry == 8) {
            checksum64_word(c, c->carry);
            c->carry = 0;
            c->ncarry = 0;
        }
    }
    for (; n >= 8; p += 8, n -= 8)
        checksum64_word(c, load_le64(p));
    for (; n; n--) {
        c->carry |= (uint64_t)*p++ << (8 * c->ncarry);
        c->ncarry++;
    }
}

static uint64_t checksum64_final(const checksum64_t *c)
{
    checksum64_t f = *c;
    if (f.ncarry)
        checksum64_word(&f, f.carry);
    checksum64_word(&f, f.total);
    uint64_t h = f.h;
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    return h;
}

/* ------------------------------------------------------------------------------------ */
/* Little-endian encoding                                                                */
/* ------------------------------------------------------------------------------------ */

static void put_le(unsigned char *p, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* ------------------------------------------------------------------------------------ */
/* Writing                                                                               */
/* ------------------------------------------------------------------------------------ */

/* Buffers output, checksums each full buffer as it goes out, remembers the first error. */
typedef struct snap_writer {
    FILE *f;
    unsigned char *buf;
    size_t len;
    checksum64_t sum;
    int err;   /* errno of the first failure, 0 while fine */
} snap_writer_t;

static void writer_flush(snap_writer_t *w)
{
    if (w->err || w->len == 0)
        return;
    checksum64_update(&w->sum, w->buf, w->len);
    if (fwrite(w->buf, 1, w->len, w->f) != w->len)
        w->err = errno ? errno : EIO;
    w->len = 0;
}

static void writer_put(snap_writer_t *w, const void *data, size_t n)
{
    const unsigned char *p = data;
    while (n && !w->err) {
        size_t room = WRITE_BUFFER_BYTES - w->len;
        size_t k = n < room ? n : room;
        memcpy(w->buf + w->len, p, k);
        w->len += k;
        p += k;
        n -= k;
        if (w->len == WRITE_BUFFER_BYTES)
            writer_flush(w);
    }
}

static void writer_put_le(snap_writer_t *w, uint64_t v, unsigned bytes)
{
    unsigned char b[8];
    put_le(b, v, bytes);
    writer_put(w, b, bytes);
}

static void write_header(snap_writer_t *w, const lc_users_t *u)
{
    uint32_t flags = (lc_users_int_keys(u) ? FLAG_INT_KEYS : 0) |
                     (lc_users_case_insensitive(u) ? FLAG_CASE_INSENSITIVE : 0);
    writer_put(w, SNAPSHOT_MAGIC, 8);
    writer_put_le(w, SNAPSHOT_VERSION, 4);
    writer_put_le(w, flags, 4);
    writer_put_le(w, (uint64_t)lc_users_loaded_at_ms(u), 8);
    writer_put_le(w, lc_users_accounts(u), 8);
    writer_put_le(w, lc_users_rows(u), 8);
    writer_put_le(w, lc_users_skipped(u), 8);
    writer_put_le(w, lc_users_devices(u), 8);
}

static void write_devices(snap_writer_t *w, const lc_users_t *u)
{
    for (size_t id = 0; id < lc_users_devices(u); id++) {
        size_t len;
        const char *name = lc_users_device_name(u, id, &len);
        writer_put_le(w, len, 4);
        writer_put(w, name, len);
    }
}

static int write_row(void *ctx, int64_t int_key, const char *str_key, size_t str_key_len,
                     uint32_t device_id)
{
    snap_writer_t *w = ctx;
    if (str_key) {
        writer_put_le(w, str_key_len, 4);
        writer_put(w, str_key, str_key_len);
    } else {
        writer_put_le(w, (uint64_t)int_key, 8);
    }
    writer_put_le(w, device_id, 4);
    return w->err;
}

/* Writes the whole file through f; returns 0 or an errno. */
static int write_snapshot(FILE *f, const lc_users_t *u)
{
    snap_writer_t w = { .f = f, .buf = lc_xmalloc(WRITE_BUFFER_BYTES) };
    checksum64_init(&w.sum);
    write_header(&w, u);
    write_devices(&w, u);
    lc_users_foreach_row(u, write_row, &w);
    writer_flush(&w);
    if (!w.err) {
        unsigned char trailer[TRAILER_BYTES];
        put_le(trailer, checksum64_final(&w.sum), 8);
        if (fwrite(trailer, 1, sizeof trailer, f) != sizeof trailer)
            w.err = errno ? errno : EIO;
    }
    free(w.buf);
    return w.err;
}

/* The directory part of path ("." when there is none), in buf. */
static void directory_of(const char *path, char *buf, size_t buflen)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(buf, buflen, ".");
    } else if (slash == path) {
        snprintf(buf, buflen, "/");
    } else {
        snprintf(buf, buflen, "%.*s", (int)(slash - path), path);
    }
}

static int fsync_directory(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* Writes u into the open temporary file fd (which it closes), fsync included. */
static int write_and_sync(int fd, const lc_users_t *u, const char *tmp, char *errstr,
                          size_t errlen)
{
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int saved = errno;
        close(fd);
        return lc_err(errstr, errlen, "%s: %s", tmp, strerror(saved));
    }
    int err = write_snapshot(f, u);
    if (!err && fflush(f) != 0)
        err = errno;
    if (!err && fsync(fileno(f)) != 0)
        err = errno;
    if (fclose(f) != 0 && !err)
        err = errno;
    if (err)
        return lc_err(errstr, errlen, "%s: write failed: %s", tmp, strerror(err));
    return 0;
}

int lc_users_save(const lc_users_t *u, const char *path, char *errstr, size_t errlen)
{
    char dir[4096], tmp[4096];
    directory_of(path, dir, sizeof dir);
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= sizeof tmp)
        return lc_err(errstr, errlen, "%s: path too long", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return lc_err(errstr, errlen, "%s: cannot create a temporary file in %s: %s", path,
                      dir, strerror(errno));
    if (write_and_sync(fd, u, tmp, errstr, errlen) < 0) {
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        return lc_err(errstr, errlen, "%s: rename from %s failed: %s", path, tmp,
                      strerror(saved));
    }
    if (fsync_directory(dir) != 0)
        return lc_err(errstr, errlen, "%s: fsync of directory %s failed: %s", path, dir,
                      strerror(errno));
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Reading                                                                               */
/* ------------------------------------------------------------------------------------ */

/* A bounds-checked cursor over the mapped file. */
typedef struct snap_reader {
    const unsigned char *p;
    size_t len, pos;
} snap_reader_t;

static bool read_le(snap_reader_t *r, unsigned bytes, uint64_t *out)
{
    if (r->len - r->pos < bytes)
        return false;
    *out = get_le(r->p + r->pos, bytes);
    r->pos += bytes;
    return true;
}

/* A 4-byte length, then that many bytes. */
static bool read_sized_bytes(snap_reader_t *r, const char **bytes, size_t *len)
{
    uint64_t n;
    if (!read_le(r, 4, &n) || r->len - r->pos < n)
        return false;
    *bytes = (const char *)r->p + r->pos;
    *len = (size_t)n;
    r->pos += (size_t)n;
    return true;
}

typedef struct snap_header {
    uint32_t version, flags;
    int64_t loaded_at_ms;
    uint64_t accounts, rows, skipped, devices;
} snap_header_t;

static void parse_header(const unsigned char *p, snap_header_t *h)
{
    h->version = (uint32_t)get_le(p + 8, 4);
    h->flags = (uint32_t)get_le(p + 12, 4);
    h->loaded_at_ms = (int64_t)get_le(p + 16, 8);
    h->accounts = get_le(p + 24, 8);
    h->rows = get_le(p + 32, 8);
    h->skipped = get_le(p + 40, 8);
    h->devices = get_le(p + 48, 8);
}

static const char *key_kind_name(bool int_keys)
{
    return int_keys ? "integer" : "string";
}

static const char *case_mode_name(bool case_insensitive)
{
    return case_insensitive ? "case-insensitive" : "case-sensitive";
}

/* Checks size, magic, version, checksum and that the file matches what the caller asks. */
static int verify_file(const char *path, const unsigned char *p, size_t len, bool int_keys,
                       bool case_insensitive, snap_header_t *h, char *errstr, size_t errlen)
{
    if (len < HEADER_BYTES + TRAILER_BYTES)
        return lc_err(errstr, errlen, "%s: truncated users snapshot (%zu bytes)", path, len);
    if (memcmp(p, SNAPSHOT_MAGIC, 8) != 0)
        return lc_err(errstr, errlen, "%s: not a logclassify users snapshot", path);
    parse_header(p, h);
    if (h->version != SNAPSHOT_VERSION)
        return lc_err(errstr, errlen, "%s: unsupported users snapshot version %u", path,
                      (unsigned)h->version);
    checksum64_t sum;
    checksum64_init(&sum);
    checksum64_update(&sum, p, len - TRAILER_BYTES);
    if (checksum64_final(&sum) != get_le(p + len - TRAILER_BYTES, 8))
        return lc_err(errstr, errlen,
                      "%s: users snapshot is corrupt or truncated (checksum mismatch)", path);
    bool file_int = h->flags & FLAG_INT_KEYS, file_ci = h->flags & FLAG_CASE_INSENSITIVE;
    if (file_int != int_keys)
        return lc_err(errstr, errlen,
                      "%s: users snapshot has %s keys but %s keys are expected (the type of "
                      "users.key_field changed?)",
                      path, key_kind_name(file_int), key_kind_name(int_keys));
    if (file_ci != case_insensitive)
        return lc_err(errstr, errlen,
                      "%s: users snapshot is %s but users.case_insensitive asks for %s", path,
                      case_mode_name(file_ci), case_mode_name(case_insensitive));
    return 0;
}

typedef struct device_ref {
    const char *name;
    size_t len;
} device_ref_t;

static int read_devices(snap_reader_t *r, uint64_t n, device_ref_t **out)
{
    if (n > (r->len - r->pos) / 4)   /* each device needs at least its 4-byte length */
        return -1;
    device_ref_t *devs = lc_xcalloc((size_t)n, sizeof *devs);
    for (uint64_t i = 0; i < n; i++) {
        if (!read_sized_bytes(r, &devs[i].name, &devs[i].len)) {
            free(devs);
            return -1;
        }
    }
    *out = devs;
    return 0;
}

/* Reads one row and adds it; -1 on a malformed row (or one beyond a snapshot's limits). */
static int read_row(snap_reader_t *r, lc_users_builder_t *b, bool int_keys,
                    const device_ref_t *devs, uint64_t ndevs)
{
    uint64_t key = 0, dev;
    const char *str_key = NULL;
    size_t str_len = 0;
    bool ok = int_keys ? read_le(r, 8, &key) : read_sized_bytes(r, &str_key, &str_len);
    if (!ok || !read_le(r, 4, &dev) || dev >= ndevs)
        return -1;
    const device_ref_t *d = &devs[dev];
    int rc = int_keys ? lc_users_builder_add_int(b, (int64_t)key, d->name, d->len)
                      : lc_users_builder_add(b, str_key, str_len, d->name, d->len);
    return rc == 0 ? 0 : -1;
}

/* Re-builds the snapshot from the verified file body. */
static lc_users_t *build_from_file(const char *path, const unsigned char *p, size_t len,
                                   const snap_header_t *h, bool int_keys,
                                   bool case_insensitive, char *errstr, size_t errlen)
{
    snap_reader_t r = { .p = p, .len = len - TRAILER_BYTES, .pos = HEADER_BYTES };
    device_ref_t *devs = NULL;
    if (read_devices(&r, h->devices, &devs) < 0) {
        lc_err(errstr, errlen, "%s: malformed users snapshot (device table)", path);
        return NULL;
    }
    size_t max_rows = (r.len - r.pos) / 5;   /* no row is shorter than 5 bytes */
    lc_users_builder_t *b =
        lc_users_builder_new(int_keys, case_insensitive, h->rows < max_rows ? h->rows : max_rows);
    uint64_t i = 0;
    for (; i < h->rows; i++)
        if (read_row(&r, b, int_keys, devs, h->devices) < 0)
            break;
    free(devs);
    if (i < h->rows || r.pos != r.len) {
        lc_users_builder_free(b);
        lc_err(errstr, errlen, "%s: malformed users snapshot (row %llu of %llu)", path,
               (unsigned long long)i + 1, (unsigned long long)h->rows);
        return NULL;
    }
    lc_users_builder_count_skipped(b, (size_t)h->skipped);
    lc_users_t *u = lc_users_builder_finish(b, h->loaded_at_ms);
    if (lc_users_rows(u) != h->rows || lc_users_accounts(u) != h->accounts) {
        lc_users_unref(u);
        lc_err(errstr, errlen, "%s: malformed users snapshot (repeated rows)", path);
        return NULL;
    }
    return u;
}

lc_users_t *lc_users_load_file(const char *path, bool int_keys, bool case_insensitive,
                               char *errstr, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        lc_err(errstr, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        lc_err(errstr, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    size_t len = (size_t)st.st_size;
    if (len < HEADER_BYTES + TRAILER_BYTES) {
        lc_err(errstr, errlen, "%s: truncated users snapshot (%zu bytes)", path, len);
        close(fd);
        return NULL;
    }
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        lc_err(errstr, errlen, "%s: mmap: %s", path, strerror(errno));
        return NULL;
    }
    lc_users_t *u = NULL;
    snap_header_t h = { 0 };
    if (verify_file(path, map, len, int_keys, case_insensitive, &h, errstr, errlen) == 0)
        u = build_from_file(path, map, len, &h, int_keys, case_insensitive, errstr, errlen);
    munmap(map, len);
    return u;
}

/* ------------------------------------------------------------------------------------ */
/* Pipe mode's users CSV                                                                 */
/* ------------------------------------------------------------------------------------ */

/* Adds one CSV line (its newline and a trailing \r already dropped). */
static int add_csv_line(lc_users_builder_t *b, const char *path, size_t lineno,
                        const char *line, size_t len, char *errstr, size_t errlen)
{
    if (lc_text_is_blank(line, len))
        return 0;
    const char *comma = memchr(line, ',', len);
    if (!comma)
        return lc_err(errstr, errlen, "%s:%zu: expected account,device", path, lineno);
    size_t key_len = (size_t)(comma - line);
    if (lc_users_builder_add(b, line, key_len, comma + 1, len - key_len - 1) < 0)
        return lc_err(errstr, errlen, "%s:%zu: beyond the users snapshot's limits", path,
                      lineno);
    return 0;   /* added, repeated, or skipped and counted */
}

static int read_csv(FILE *f, lc_users_builder_t *b, const char *path, char *errstr,
                    size_t errlen)
{
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        size_t len = (size_t)n;
        lineno++;
        if (len && line[len - 1] == '\n')
            len--;
        if (len && line[len - 1] == '\r')
            len--;
        rc = add_csv_line(b, path, lineno, line, len, errstr, errlen);
    }
    if (rc == 0 && ferror(f))
        rc = lc_err(errstr, errlen, "%s: read error: %s", path, strerror(errno));
    free(line);
    return rc;
}

lc_users_t *lc_users_load_csv(const char *path, bool int_keys, bool case_insensitive,
                              char *errstr, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        lc_err(errstr, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    size_t hint = fstat(fileno(f), &st) == 0 ? (size_t)st.st_size / 16 : 0;
    lc_users_builder_t *b = lc_users_builder_new(int_keys, case_insensitive, hint);
    int rc = read_csv(f, b, path, errstr, errlen);
    fclose(f);
    if (rc < 0) {
        lc_users_builder_free(b);
        return NULL;
    }
    return lc_users_builder_finish(b, lc_wall_ms());
}
