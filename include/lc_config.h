/*
 * lc_config.h - the configuration: one YAML file, one table of keys, compiled into the
 * modules' typed options.
 *
 * A single table in config.c (name, type, default, range, description, secret flag, where
 * the value goes) drives parsing, validation (unknown key or bad value -> error with
 * file:line), defaults, `--help`'s list of keys, and `--check-config`'s effective
 * configuration dump (secrets masked). Values may be `${NAME}` or `${NAME:-default}` from
 * the environment. librdkafka properties pass through under kafka.consumer and
 * kafka.producer. Every key lands in the option struct of the module that uses it; the rules
 * across keys (config_rules.c) run as validation hooks while the file is loaded, so a file
 * that loads is never refused later for its content.
 *
 * Only the programs (src/main.c, the bench tools, the tests) include this header; a module
 * depends on its own option struct alone. Adding a key: its field in that struct, and one
 * row in the table.
 */
#ifndef LC_CONFIG_H
#define LC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lc_classify.h"
#include "lc_kafka.h"
#include "lc_log.h"
#include "lc_mysql.h"
#include "lc_pipeline.h"
#include "lc_schema.h"
#include "lc_users_source.h"

typedef struct lc_config {
    char *path;                     /* the file, for messages */

    lc_kafka_opts_t kafka;          /* kafka.* */
    lc_pipeline_opts_t pipeline;    /* delivery, batch.* */
    lc_classify_opts_t classify;    /* input.*, output.*, users.key_field/value_field/... */
    lc_mysql_opts_t mysql;          /* mysql.*, users.table/key_column/value_column */
    lc_users_source_opts_t users;   /* users.refresh_interval_s, ... */
    const char *metrics_listen;     /* metrics.listen: host:port, "" off */
    lc_log_level_t log_level;       /* log.level */
    int stats_interval_s;           /* log.stats_interval_s */
    const char *password_file;      /* mysql.password_file (read into mysql.password) */

    /* schema: the fields as read (for --check-config) and compiled */
    lc_field_def_t *fields;
    size_t nfields;
    lc_schema_t *schema;
} lc_config_t;

/* Loads and validates a file. On failure returns NULL and writes "FILE:LINE: message" into
 * errstr (the caller exits 2). The result is owned by the caller (lc_config_free). */
lc_config_t *lc_config_load(const char *path, char *errstr, size_t errlen);

/* Same, from a string in memory (tests); `name` stands for the file name in messages. */
lc_config_t *lc_config_load_string(const char *yaml, const char *name, char *errstr, size_t errlen);

/* A configuration with every default and the default schema (CONTRACT §3). */
lc_config_t *lc_config_defaults(char *errstr, size_t errlen);

void lc_config_free(lc_config_t *c);

/* Writes the effective configuration as YAML with secrets masked ("********"),
 * including passed-through librdkafka properties whose names mark a secret
 * (lc_log_is_secret_name: sasl.password, ssl.key.password, ssl.key.pem...). */
void lc_config_dump(const lc_config_t *c, FILE *out);

/* Writes the table of keys (name, type, default, description) for --help and the README. */
void lc_config_describe(FILE *out, bool markdown);

#endif
