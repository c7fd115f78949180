/*
 * lc_pipe.h - pipe mode (`--stdin`): JSON lines in, one output line per non-blank input
 * line out, same order. A trailing "\r" is dropped; a line of only ASCII white space
 * (CONTRACT §2.1: space, tab, CR, LF, FF, VT) is blank, as in the users CSV.
 */
#ifndef LC_PIPE_H
#define LC_PIPE_H

#include <stdio.h>

#include "lc_config.h"

/* Returns 0 at end of input, -1 on a read/write error (errstr). */
int lc_pipe_run(const lc_config_t *cfg, const lc_users_t *users, FILE *in, FILE *out,
                char *errstr, size_t errlen);

#endif
