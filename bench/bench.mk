# bench/bench.mk - benchmark tools and targets (included by the top-level Makefile).
#
#   make bench          the whole benchmark on the local broker and MariaDB (scripts/bench.sh):
#                       prints one table, writes bench/results/<date>.{md,json}
#   make bench-smoke    the same harness in a few seconds (small N, one run, no thresholds);
#                       fails only when the harness itself breaks
#   make bench-tools    just the programs, into $(BUILD)/bench/
#   make instructions   the classifier's instructions per record under callgrind, against
#                       bench/instructions.budget (fails above it + 10%); no clock involved,
#                       so `make check` runs it (bench/instructions.sh)
#
# Knobs (environment): BENCH_RECORDS, BENCH_RUNS, BENCH_USERS, BENCH_USERS_MAX,
# BENCH_LAT_SECONDS, BENCH_LAT_RATE, BENCH_CLASSIFY_RECORDS, BENCH_REB_RATE, BENCH_REB_TIMES,
# BENCH_REB_PROTOCOLS, BENCH_ONLY, BENCH_OUT; the service
# instance is the one LC_STATE_DIR / LC_KAFKA_PORT / LC_MYSQL_PORT name (scripts/services.sh).

BENCH_TOOLS := passthrough classify_bench users_bench latency benchctl rebalance
BENCH_BINS  := $(BENCH_TOOLS:%=$(BUILD)/bench/%)

.PHONY: bench bench-smoke bench-tools instructions

bench-tools: $(BENCH_BINS)

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

bench: all bench-tools
	scripts/bench.sh --build $(BUILD)

bench-smoke: all bench-tools
	scripts/bench.sh --smoke --build $(BUILD)

# Counts from a sanitizer build would mean nothing: the plain build only.
instructions: all $(BUILD)/bench/classify_bench
	@test -z "$(filter 1 thread,$(SAN))" || { echo "instructions: plain build only (no SAN)"; exit 2; }
	bench/instructions.sh --build $(BUILD)

-include $(BENCH_BINS:=.d)
