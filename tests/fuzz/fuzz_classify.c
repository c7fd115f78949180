/*
 * fuzz_classify.c - libFuzzer harness for the pure classifier (lc_classify).
 *
 * Each input is one record, or a header choosing one of FZ_NVARIANTS configurations and
 * optionally expanding the payload up to twice max_record_bytes (format and checks:
 * tests/fuzz/fuzz_checks.h). Any broken rule aborts with a message, so libFuzzer keeps the
 * input as a crash file; `make fuzz-replay FILE=...` runs it again.
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
        fprintf(stderr, "fuzz_classify: setup failed: %s\n", err);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = fz_run_input(env, data, size);
    if (why) {
        fprintf(stderr, "fuzz_classify: check failed: %s\n", why);
        abort();
    }
    return 0;
}
