/*
 * msk_token.c (lc-msk-token) - MSK IAM tokens from lc_msk_iam_token, for the differential
 * test against AWS's Python signer (tests/aws/msk_signer_tokens.py reads and writes the same
 * lines). Reads JSON lines {"id", "access_key_id", "secret_access_key", "session_token" (or
 * null), "region", "time" (epoch seconds), "user_agent"} and writes {"id", "token",
 * "expiry_ms"} lines; a case the module refuses gets {"id", "error"}. Test-only: it prints
 * tokens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lc_msk_iam.h"

static const char *get_str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int bad = 0;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        json_error_t jerr;
        json_t *c = json_loads(line, 0, &jerr);
        if (!c) {
            fprintf(stderr, "lc-msk-token: line is not JSON\n");
            bad = 1;
            continue;
        }
        lc_aws_credentials_t cr = {0};
        const char *ak = get_str(c, "access_key_id"), *sk = get_str(c, "secret_access_key");
        const char *tok = get_str(c, "session_token"), *region = get_str(c, "region");
        const char *ua = get_str(c, "user_agent");
        snprintf(cr.access_key_id, sizeof(cr.access_key_id), "%s", ak ? ak : "");
        snprintf(cr.secret_access_key, sizeof(cr.secret_access_key), "%s", sk ? sk : "");
        snprintf(cr.session_token, sizeof(cr.session_token), "%s", tok ? tok : "");
        json_int_t t = json_integer_value(json_object_get(c, "time"));
        lc_buf_t token = {0};
        int64_t expiry = 0;
        char err[512];
        json_t *out = json_object();
        json_object_set(out, "id", json_object_get(c, "id"));
        if (lc_msk_iam_token(&cr, region, (int64_t)t * 1000, ua, &token, &expiry, err,
                             sizeof(err)) == 0) {
            json_object_set_new(out, "token", json_stringn(token.data, token.len));
            json_object_set_new(out, "expiry_ms", json_integer(expiry));
        } else {
            json_object_set_new(out, "error", json_string(err));
        }
        char *s = json_dumps(out, JSON_COMPACT);
        printf("%s\n", s);
        free(s);
        json_decref(out);
        json_decref(c);
        lc_buf_free(&token);
    }
    free(line);
    return bad;
}
