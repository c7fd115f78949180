/*
 * lc_pipe.h - pipe mode (`--stdin`): JSON lines in, one output line per non-blank input
 * line out, same order. A trailing "\r" is dropped; a line of only ASCII white space
 * (CONTRACT §2.1: space, tab, CR, LF, FF, VT) is blank, as in the users CSV.
 */
#ifndef LC_PIPE_H
#define LC_PIPE_H

#include <stdio.h>

#include "lc_classify.h"

/* Classifies every line of `in` with a classifier for opts against `users` (borrowed; NULL:
 * the schema alone) and writes each output line to `out`. Returns 0 at end of input, -1 on
 * a read/write error (errstr). */
int lc_pipe_run(const lc_classify_opts_t *opts, const lc_users_t *users, FILE *in, FILE *out,
                char *errstr, size_t errlen);

#endif
