/*
 * fuzz_pipe.c - libFuzzer harness for pipe mode (lc_pipe_run, CONTRACT §7).
 *
 * The input is a whole standard input: lines split on '\n'. lc_pipe_run reads it from an
 * fmemopen stream with the default configuration and users; its output must be exactly one
 * line per non-blank input line, in order, each the classifier's own output for that line,
 * and every line must pass the classifier checks of tests/fuzz/fuzz_checks.h.
 */
#include "fuzz_checks.h"

static fz_env_t *env;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[2048] = "";
    env = fz_env_new(err, sizeof(err));
    if (!env) {
        fprintf(stderr, "fuzz_pipe: setup failed: %s\n", err);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = fz_check_pipe(env, data, size);
    if (why) {
        fprintf(stderr, "fuzz_pipe: check failed: %s\n", why);
        abort();
    }
    return 0;
}
