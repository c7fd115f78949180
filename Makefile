# logclassify - build, test, install.
#
#   make            build/logclassify, build/loggen
#   make check      every test: unit (plain and ASan+UBSan) and integration against a real
#                   local Kafka broker and MariaDB (started by scripts/services.sh)
#   make demo       the whole job on a fresh machine
#   make bench      benchmarks (speed targets live here, never in tests)
#   make SAN=1      sanitizer build into build-san/

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
PKGS    := rdkafka jansson yaml-0.1 mysqlclient libmicrohttpd libsystemd libcurl libcrypto

ifeq ($(SAN),1)
BUILD   ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT     := -O1 -g
else
BUILD   ?= build
SANFLAGS :=
OPT     := -O2 -g
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= $(OPT)
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wno-missing-field-initializers -Iinclude $(PKG_CFLAGS) $(SANFLAGS) -pthread -MMD -MP
LDFLAGS += $(SANFLAGS) -pthread
# jemalloc in plain builds: librdkafka allocates a message, its payload copy and its headers
# per record in one thread and frees them in another; glibc's malloc took about 19% of
# logclassify's CPU there (perf). jemalloc cut CPU per record by about 30% (make bench,
# README "Performance"). Sanitizer builds keep the sanitizer's allocator.
ifneq ($(SAN),1)
ALLOC_LIBS := $(shell pkg-config --libs jemalloc 2>/dev/null || echo -ljemalloc)
endif
LDLIBS  += $(ALLOC_LIBS) $(PKG_LIBS) -lm

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

.PHONY: all clean install check unit unit-san integration demo bench fuzz services-up services-down deps

all: $(BUILD)/logclassify $(BUILD)/loggen

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/loggen/%.o: src/loggen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/logclassify: $(BUILD)/obj/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/loggen: $(LOGGEN_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS) -lcmocka

# The integration tests' independent judge (librdkafka + jansson only).
$(BUILD)/lc-verify: tests/tools/verify.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)

# MSK IAM test tools: tokens for the differential test against AWS's Python signer, and a
# client that produces and consumes through the broker's IAM listener (tests/aws/).
$(BUILD)/lc-msk-token: tests/tools/msk_token.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

$(BUILD)/lc-msk-iam-client: tests/tools/msk_iam_client.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

# Unit tests: pure modules, no services needed.
unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

unit-san:
	$(MAKE) SAN=1 unit

deps:
	scripts/deps.sh

services-up:
	scripts/services.sh up

services-down:
	scripts/services.sh down

integration: all
	tests/integration/run.sh $(BUILD)

# Every test: unit (plain, then ASan+UBSan; includes the librdkafka mock-cluster fault
# tests and the fuzz-corpus replay), a short fuzz run, a benchmark smoke run (no
# thresholds), then the integration and fault suites against the real local Kafka broker
# and MariaDB, plain and sanitized (slow fault tests once).
check: deps
	$(MAKE) all unit
	$(MAKE) SAN=1 all unit
	$(MAKE) fuzz-smoke
	$(MAKE) bench-smoke
	tests/integration/run.sh build build-san

demo: deps
	scripts/demo.sh

clean:
	rm -rf build build-san

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
