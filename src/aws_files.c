/* aws_files.c - the shared credentials and config files (~/.aws/credentials, ~/.aws/config):
 * INI text read as Python's configparser reads it (botocore uses it), and a profile's keys. */
#include "lc_aws.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_ws(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\f' || *s == '\v'))
        s++;
    return s;
}

static const char *trim_end(const char *s, const char *end)
{
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
                       end[-1] == '\f' || end[-1] == '\v'))
        end--;
    return end;
}

/* The pending option: its value grows with continuation lines until the next option. */
typedef struct pending {
    lc_buf_t section;
    lc_buf_t key;
    lc_buf_t value;
    bool active;
} pending_t;

static int flush(pending_t *p, lc_aws_ini_cb cb, void *ctx)
{
    if (!p->active)
        return 0;
    p->active = false;
    lc_buf_putc(&p->value, '\0');
    int rc = cb(ctx, p->section.data, p->key.data, p->value.data);
    lc_aws_wipe(p->value.data, p->value.len);
    lc_buf_reset(&p->value);
    return rc;
}

int lc_aws_ini_parse(const char *text, lc_aws_ini_cb cb, void *ctx, char *errstr, size_t errlen)
{
    pending_t p = {0};
    bool in_section = false;
    size_t indent_level = (size_t)-1;
    int rc = 0, lineno = 0;
    for (const char *line = text; *line && rc == 0;) {
        const char *eol = strchr(line, '\n');
        const char *end = eol ? eol : line + strlen(line);
        const char *next = eol ? eol + 1 : end;
        lineno++;
        const char *s = skip_ws(line, end);
        const char *e = trim_end(s, end);
        size_t indent = (size_t)(s - line);
        if (s == e || *s == '#' || *s == ';') {        /* blank or a comment */
            if (s == e)
                indent_level = (size_t)-1;             /* a blank line ends a value */
            line = next;
            continue;
        }
        if (p.active && indent > indent_level) {      /* continuation of the value */
            lc_buf_putc(&p.value, '\n');
            lc_buf_append(&p.value, s, (size_t)(e - s));
            line = next;
            continue;
        }
        indent_level = indent;
        if ((rc = flush(&p, cb, ctx)) != 0)
            break;
        const char *close = NULL;
        if (*s == '[') {
            for (const char *q = e - 1; q > s + 1; q--)
                if (*q == ']') {
                    close = q;
                    break;
                }
        }
        if (close) {                                    /* [section] */
            lc_buf_reset(&p.section);
            lc_buf_append(&p.section, s + 1, (size_t)(close - s - 1));
            lc_buf_putc(&p.section, '\0');
            in_section = true;
            line = next;
            continue;
        }
        if (!in_section) {
            rc = lc_err(errstr, errlen, "line %d: a key before the first [section]", lineno);
            break;
        }
        const char *sep = s;
        while (sep < e && *sep != '=' && *sep != ':')
            sep++;
        const char *kend = trim_end(s, sep);
        if (sep == e || kend == s) {
            rc = lc_err(errstr, errlen, "line %d: neither a [section] nor a key = value line",
                        lineno);
            break;
        }
        lc_buf_reset(&p.key);
        for (const char *k = s; k < kend; k++)
            lc_buf_putc(&p.key, (char)tolower((unsigned char)*k));
        lc_buf_putc(&p.key, '\0');
        const char *v = skip_ws(sep + 1, e);
        lc_buf_append(&p.value, v, (size_t)(e - v));
        p.active = true;
        line = next;
    }
    if (rc == 0)
        rc = flush(&p, cb, ctx);
    lc_aws_wipe(p.value.data, p.value.cap);
    lc_buf_free(&p.section);
    lc_buf_free(&p.key);
    lc_buf_free(&p.value);
    return rc < 0 ? -1 : rc;
}

/* botocore's reading of a config-file section name: "default", or "profile NAME" (one
 * word after "profile", spaces around it); credentials files name the profile directly. */
static bool section_is_profile(const char *section, bool config_file, const char *profile)
{
    if (!config_file)
        return strcmp(section, profile) == 0;
    if (strcmp(section, "default") == 0)
        return strcmp(profile, "default") == 0;
    if (strncmp(section, "profile", 7) != 0)
        return false;
    const char *s = section + 7;
    if (*s != ' ' && *s != '\t')
        return false;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return n == strlen(profile) && strncmp(s, profile, n) == 0;
}

typedef struct lookup {
    bool config_file;
    const char *profile;
    lc_aws_profile_t *info;
    lc_aws_credentials_t *creds;
    bool have_id, have_secret;
    char *errstr;
    size_t errlen;
} lookup_t;

static int copy_value(lookup_t *l, const char *key, const char *value, char *dst, size_t cap)
{
    size_t n = strlen(value);
    if (n >= cap)
        return lc_err(l->errstr, l->errlen, "profile %s: %s is too long (%zu bytes)",
                      l->profile, key, n);
    memcpy(dst, value, n + 1);
    return 0;
}

static int on_key(void *ctx, const char *section, const char *key, const char *value)
{
    lookup_t *l = ctx;
    if (!section_is_profile(section, l->config_file, l->profile))
        return 0;
    l->info->found = true;
    if (strcmp(key, "aws_access_key_id") == 0) {
        l->have_id = true;
        return copy_value(l, key, value, l->creds->access_key_id, sizeof(l->creds->access_key_id));
    }
    if (strcmp(key, "aws_secret_access_key") == 0) {
        l->have_secret = true;
        return copy_value(l, key, value, l->creds->secret_access_key,
                          sizeof(l->creds->secret_access_key));
    }
    if (strcmp(key, "aws_session_token") == 0 ||
        (strcmp(key, "aws_security_token") == 0 && !l->creds->session_token[0]))
        return copy_value(l, key, value, l->creds->session_token,
                          sizeof(l->creds->session_token));
    static const char *const unsupported[] = {
        "role_arn", "credential_process", "sso_session", "sso_start_url",
        "web_identity_token_file", "credential_source",
    };
    for (size_t i = 0; i < LC_ARRAY_SIZE(unsupported); i++)
        if (strcmp(key, unsupported[i]) == 0 && !l->info->unsupported[0])
            snprintf(l->info->unsupported, sizeof(l->info->unsupported), "%s", key);
    return 0;
}

int lc_aws_profile_read(const char *text, bool config_file, const char *profile,
                        lc_aws_profile_t *info, lc_aws_credentials_t *creds, char *errstr,
                        size_t errlen)
{
    memset(info, 0, sizeof(*info));
    lc_aws_credentials_wipe(creds);
    lookup_t l = {.config_file = config_file, .profile = profile, .info = info,
                  .creds = creds, .errstr = errstr, .errlen = errlen};
    char why[256];
    l.errstr = why;
    l.errlen = sizeof(why);
    if (lc_aws_ini_parse(text, on_key, &l, why, sizeof(why)) != 0) {
        lc_aws_credentials_wipe(creds);
        return lc_err(errstr, errlen, "%s", why);
    }
    bool id = l.have_id && creds->access_key_id[0];
    bool secret = l.have_secret && creds->secret_access_key[0];
    if (id != secret || (l.have_id || l.have_secret) != id) {
        lc_aws_credentials_wipe(creds);
        if (id || secret)
            return lc_err(errstr, errlen, "profile %s has %s but not %s", profile,
                          id ? "aws_access_key_id" : "aws_secret_access_key",
                          id ? "aws_secret_access_key" : "aws_access_key_id");
        return lc_err(errstr, errlen, "profile %s: aws_access_key_id or aws_secret_access_key "
                      "is empty", profile);
    }
    info->has_credentials = l.have_id;
    if (!info->has_credentials)
        lc_aws_credentials_wipe(creds);
    return 0;
}

int lc_aws_read_file(const char *path, char **text, char *errstr, size_t errlen)
{
    *text = NULL;
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno == ENOENT)
            return 1;
        return lc_err(errstr, errlen, "%s: %s", path, strerror(errno));
    }
    lc_buf_t b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        lc_buf_append(&b, chunk, n);
        if (b.len > (1u << 20)) {
            fclose(f);
            lc_aws_buf_wipe_free(&b);
            lc_aws_wipe(chunk, sizeof(chunk));
            return lc_err(errstr, errlen, "%s: larger than 1 MiB", path);
        }
    }
    int err = ferror(f);
    fclose(f);
    lc_aws_wipe(chunk, sizeof(chunk));
    if (err) {
        lc_aws_buf_wipe_free(&b);
        return lc_err(errstr, errlen, "%s: read error", path);
    }
    lc_buf_putc(&b, '\0');
    *text = b.data;
    return 0;
}
