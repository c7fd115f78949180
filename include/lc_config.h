/*
 * lc_config.h - the configuration: one YAML file, one table of keys.
 *
 * A single table in config.c (name, type, default, range, description, secret flag,
 * offsetof) drives parsing, validation (unknown key or bad value -> error with file:line),
 * defaults, `--help`'s list of keys, and `--check-config`'s effective configuration dump
 * (secrets masked). Values may be `${NAME}` or `${NAME:-default}` from the environment.
 * librdkafka properties pass through untouched under kafka.consumer and kafka.producer.
 */
#ifndef LC_CONFIG_H
#define LC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lc_classify.h"
#include "lc_schema.h"

typedef enum lc_delivery {
    LC_DELIVERY_AT_LEAST_ONCE = 0,
    LC_DELIVERY_EXACTLY_ONCE,
} lc_delivery_t;

/* One librdkafka property passed through. */
typedef struct lc_kv {
    char *key;
    char *value;
    int line;
} lc_kv_t;

typedef struct lc_config {
    char *path;

    /* kafka */
    char *kafka_brokers;            /* kafka.brokers */
    char *kafka_group_id;           /* kafka.group_id */
    char *kafka_input_topic;        /* kafka.input_topic */
    char *kafka_output_topic;       /* kafka.output_topic */
    char *kafka_transactional_id;   /* kafka.transactional_id (exactly_once) */
    int kafka_startup_timeout_s;    /* kafka.startup_timeout_s */
    lc_kv_t *consumer_props;        /* kafka.consumer.* */
    size_t n_consumer_props;
    lc_kv_t *producer_props;        /* kafka.producer.* */
    size_t n_producer_props;

    lc_delivery_t delivery;         /* delivery */
    int batch_max_records;          /* batch.max_records */
    int batch_max_wait_ms;          /* batch.max_wait_ms */
    int batch_commit_interval_ms;   /* batch.commit_interval_ms (at_least_once) */

    long long input_max_record_bytes;  /* input.max_record_bytes */
    char *output_status_field;      /* output.status_field */
    char *output_reasons_field;     /* output.reasons_field */

    /* mysql */
    char *mysql_host;
    int mysql_port;
    char *mysql_socket;
    char *mysql_user;
    char *mysql_password;           /* secret */
    char *mysql_password_file;      /* read at load time into mysql_password */
    char *mysql_database;
    char *mysql_ssl_mode;           /* disabled | preferred | required | verify_ca | verify_identity */
    char *mysql_ssl_ca;
    int mysql_connect_timeout_s;

    /* users */
    char *users_table;
    char *users_key_column;
    char *users_value_column;
    char *users_key_field;
    char *users_value_field;
    int users_refresh_interval_s;
    int users_startup_timeout_s;
    char *users_snapshot_path;
    lc_status_t users_unknown_account;
    bool users_case_insensitive;

    /* metrics / log */
    char *metrics_listen;           /* "" turns the endpoint off */
    char *log_level;
    int log_stats_interval_s;

    /* schema (compiled); fields as read, for --check-config output */
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
 * including passed-through librdkafka properties whose names contain password, secret,
 * or key (sasl.password, ssl.key.password, ssl.key.pem...). */
void lc_config_dump(const lc_config_t *c, FILE *out);

/* Writes the table of keys (name, type, default, description) for --help and the README. */
void lc_config_describe(FILE *out, bool markdown);

/* True when a librdkafka/config property name holds a secret and must be masked in logs. */
bool lc_config_is_secret_name(const char *name);

/* The classifier options this configuration asks for (pointers borrowed from c). */
void lc_config_classify_opts(const lc_config_t *c, lc_classify_opts_t *out);

#endif
