/* pipe.c - pipe mode: classify JSON lines from a stream. */
#include "lc_pipe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lc_text.h"

int lc_pipe_run(const lc_classify_opts_t *opts, const lc_users_t *users, FILE *in, FILE *out,
                char *errstr, size_t errlen)
{
    lc_classifier_t *c = lc_classifier_new(opts);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    lc_buf_t outbuf = {0};
    int rc = 0;
    errno = 0;
    while ((n = getline(&line, &cap, in)) >= 0) {
        size_t len = (size_t)n;
        if (len && line[len - 1] == '\n')
            len--;
        if (len && line[len - 1] == '\r')
            len--;
        if (lc_text_is_blank(line, len))
            continue;
        lc_verdict_t v;
        lc_buf_reset(&outbuf);
        lc_classify(c, users, line, len, true, &v, &outbuf);
        lc_buf_putc(&outbuf, '\n');
        if (fwrite(outbuf.data, 1, outbuf.len, out) != outbuf.len) {
            rc = lc_err(errstr, errlen, "write: %s", strerror(errno));
            break;
        }
    }
    if (rc == 0 && ferror(in))
        rc = lc_err(errstr, errlen, "read: %s", strerror(errno));
    if (fflush(out) != 0 && rc == 0)
        rc = lc_err(errstr, errlen, "write: %s", strerror(errno));
    free(line);
    lc_buf_free(&outbuf);
    lc_classifier_free(c);
    return rc;
}
