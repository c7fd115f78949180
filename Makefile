# logclassify - build, test, install.
#
#   make            build/logclassify, build/loggen
#   make check      every test: unit (plain, ASan+UBSan, TSan), the instruction-count guard,
#                   and integration against a real local Kafka broker and MariaDB (started
#                   by scripts/services.sh)
#   make demo       the whole job on a fresh machine
#   make bench      benchmarks (speed targets live here, never in tests)
#   make SAN=1      sanitizer build into build-san/ (ASan + UBSan)
#   make SAN=thread ThreadSanitizer build into build-tsan/

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
PKGS    := jansson yaml-0.1 mysqlclient libmicrohttpd libsystemd libcurl libcrypto

# librdkafka: by default the pinned release (scripts/librdkafka.pin), built from source as a
# static library by scripts/librdkafka.sh into $(LC_CACHE) on first use. LIBRDKAFKA=system
# links the distribution's shared librdkafka (>= 2.0.2) instead, in build folders of its own
# (build-system/, build-system-san/).
LIBRDKAFKA ?= pinned
LC_CACHE   ?= $(or $(HOME),/root)/.cache/logclassify
ifeq ($(SAN),thread)
# ThreadSanitizer runs against the distribution's shared librdkafka: not built with TSan,
# its internals are left out by library name (tests/tsan/suppressions.txt), which a library
# linked statically into the program would not have.
override LIBRDKAFKA := system
endif
ifeq ($(LIBRDKAFKA),pinned)
include scripts/librdkafka.pin
RDK_MK     := $(LC_CACHE)/librdkafka-$(LIBRDKAFKA_VERSION)/rdkafka.mk
BUILD_TAG  :=
else ifeq ($(LIBRDKAFKA),system)
PKGS       += rdkafka
BUILD_TAG  := -system
else
$(error LIBRDKAFKA must be pinned or system, not '$(LIBRDKAFKA)')
endif

ifeq ($(SAN),1)
BUILD   ?= build$(BUILD_TAG)-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT     := -O1 -g
else ifeq ($(SAN),thread)
BUILD   ?= build-tsan
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
OPT     := -O1 -g
# librdkafka starts its threads with C11 thrd_create, which the TSan runtime does not
# intercept; every TSan program links this replacement (tests/tsan/c11_threads.c).
TSAN_SHIM := $(BUILD)/obj/tsan/c11_threads.o
else
BUILD   ?= build$(BUILD_TAG)
SANFLAGS :=
OPT     := -O2 -g
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

ifdef RDK_MK
# make builds the pinned librdkafka first (rdkafka.mk is its last step), then reads the
# flags it wrote. Goals that compile nothing themselves leave it alone.
ifneq ($(filter-out clean deps services-up services-down check demo,$(or $(MAKECMDGOALS),all)),)
include $(RDK_MK)
endif
$(RDK_MK): scripts/librdkafka.pin
	scripts/librdkafka.sh build
PKG_CFLAGS += $(RDK_CFLAGS)
PKG_LIBS   := $(RDK_LIBS) $(PKG_LIBS)
endif

CFLAGS  ?= $(OPT)
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wno-missing-field-initializers -Iinclude $(PKG_CFLAGS) $(SANFLAGS) -pthread -MMD -MP
LDFLAGS += $(SANFLAGS) -pthread
# jemalloc in plain builds: librdkafka allocates a message, its payload copy and its headers
# per record in one thread and frees them in another; glibc's malloc took about 19% of
# logclassify's CPU there (perf). jemalloc cut CPU per record by about 30% (make bench,
# docs/PERFORMANCE.md). Sanitizer builds keep the sanitizer's allocator.
ifeq ($(filter 1 thread,$(SAN)),)
ALLOC_LIBS := $(shell pkg-config --libs jemalloc 2>/dev/null || echo -ljemalloc)
endif
LDLIBS  += $(TSAN_SHIM) $(ALLOC_LIBS) $(PKG_LIBS) -lm

# Every src/*.c but the program's main goes into one static library.
PROG_SRCS := src/main.c
LIB_SRCS  := $(filter-out $(PROG_SRCS),$(wildcard src/*.c))
LIB_OBJS  := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
LIB       := $(BUILD)/liblogclassify.a

# loggen, the test-record generator: its own files in src/loggen/, linked with the library.
LOGGEN_SRCS := $(wildcard src/loggen/*.c)
LOGGEN_OBJS := $(LOGGEN_SRCS:src/loggen/%.c=$(BUILD)/obj/loggen/%.o)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

ifdef RDK_MK
# What is compiled against the pinned librdkafka is compiled again when it changes (a new
# pin, or a build folder made before): -MMD does not list headers found through -isystem.
$(LIB_OBJS) $(BUILD)/obj/main.o $(LOGGEN_OBJS) $(BUILD)/lc-verify: $(RDK_MK)
endif

.PHONY: all clean install check unit unit-san tsan readme-config integration demo bench fuzz services-up services-down deps

all: $(BUILD)/logclassify $(BUILD)/loggen

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/loggen/%.o: src/loggen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $(LIB_OBJS)

$(BUILD)/logclassify: $(BUILD)/obj/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/loggen: $(LOGGEN_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS) -lcmocka

ifdef TSAN_SHIM
$(TSAN_SHIM): tests/tsan/c11_threads.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# LDLIBS names the object in every link; through $(LIB) (not archived in it) a changed shim
# relinks every program.
$(LIB) $(BUILD)/lc-verify: $(TSAN_SHIM)
endif

# The integration tests' independent judge (librdkafka + jansson only).
$(BUILD)/lc-verify: tests/tools/verify.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)

# MSK IAM test tool: tokens for the differential test against AWS's Python signer
# (tests/aws/).
$(BUILD)/lc-msk-token: tests/tools/msk_token.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

# Unit tests: pure modules, no services needed.
unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

unit-san:
	$(MAKE) SAN=1 unit

# ThreadSanitizer (build-tsan/): the unit tests that run threads, then the service itself for
# one short integration run (tests/tsan/run.sh); any report fails. librdkafka is not built
# with TSan: tests/tsan/suppressions.txt covers its internals, and nothing else.
# test_kafka and test_aws_sources: MSK IAM's token refresh on librdkafka's background thread.
TSAN_UNIT ?= test_threads test_mock_faults test_kafka test_aws_sources
tsan:
	$(MAKE) SAN=thread all build-tsan/lc-verify $(TSAN_UNIT:%=build-tsan/tests/%)
	tests/tsan/run.sh unit $(TSAN_UNIT)
	tests/tsan/run.sh integration

# The README's configuration table is the binary's --config-reference, to the byte.
readme-config: $(BUILD)/logclassify
	tests/docs/check_readme_config.sh $(BUILD)/logclassify README.md

deps:
	scripts/deps.sh

services-up:
	scripts/services.sh up

services-down:
	scripts/services.sh down

integration: all
	tests/integration/run.sh $(BUILD)

# Every test, in this order:
#   unit tests, plain, then ASan+UBSan (includes the librdkafka mock-cluster fault tests and
#     the fuzz-corpus replay);
#   the README's configuration table against --config-reference;
#   the classifier's instructions per record against bench/instructions.budget (callgrind);
#   a short fuzz run; a benchmark smoke run (no thresholds);
#   the unit tests and one end-to-end run of a build against the distribution's librdkafka
#     (LIBRDKAFKA=system), which stays supported beside the pinned one;
#   the integration and fault suites against the real local Kafka broker and MariaDB, plain
#     and sanitized (slow fault tests once);
#   TSan: the threaded unit tests and one short service run.
check: deps
	$(MAKE) all unit
	$(MAKE) SAN=1 all unit
	$(MAKE) LIBRDKAFKA=system all unit
	$(MAKE) readme-config
	$(MAKE) instructions
	$(MAKE) fuzz-smoke
	$(MAKE) bench-smoke
	tests/integration/run.sh build build-san build-system:test_e2e_truth
	$(MAKE) tsan

demo: deps
	scripts/demo.sh

clean:
	rm -rf build build-*

# /usr/local/lib/systemd/system is on systemd's unit path; with another PREFIX, set
# UNITDIR=/etc/systemd/system. An edited /etc/logclassify/app.yaml is never overwritten.
UNITDIR ?= $(PREFIX)/lib/systemd/system

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/etc/logclassify $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BUILD)/logclassify $(BUILD)/loggen $(DESTDIR)$(PREFIX)/bin/
	test -e $(DESTDIR)/etc/logclassify/app.yaml || install -m 0644 conf/app.yaml $(DESTDIR)/etc/logclassify/app.yaml
	install -m 0644 conf/logclassify.env.example $(DESTDIR)/etc/logclassify/logclassify.env.example
	sed 's|/usr/local/bin/logclassify|$(PREFIX)/bin/logclassify|' conf/logclassify.service >$(DESTDIR)$(UNITDIR)/logclassify.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/logclassify.service

-include tests/fuzz/fuzz.mk bench/bench.mk

-include $(LIB_OBJS:.o=.d) $(BUILD)/obj/main.d $(LOGGEN_OBJS:.o=.d)
