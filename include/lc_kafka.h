/*
 * lc_kafka.h - librdkafka client set-up shared by the service, loggen and bench tools:
 * configuration from the kafka options (our defaults, then the user's pass-through
 * properties, then the properties delivery guarantees depend on, then MSK IAM's when
 * kafka.aws_iam is on), log lines routed through lc_log; and a few questions asked of a
 * client (cluster reachable, consumer lag).
 */
#ifndef LC_KAFKA_H
#define LC_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "lc_aws.h"
#include "lc_msk_iam.h"

/* kafka.group_protocol: how the consumer group shares the input partitions. */
typedef enum lc_group_protocol {
    LC_GROUP_PROTOCOL_CLASSIC = 0,   /* the members assign (cooperative-sticky, librdkafka) */
    LC_GROUP_PROTOCOL_CONSUMER,      /* KIP-848: the broker assigns, through heartbeats */
} lc_group_protocol_t;

/* "classic", "consumer", NULL: indexed by lc_group_protocol_t. */
extern const char *const lc_group_protocol_names[];

/* One librdkafka property passed through (kafka.consumer.* / kafka.producer.*). */
typedef struct lc_kafka_prop {
    const char *key;
    const char *value;
    int line;                      /* its line in the configuration file; 0 unknown */
} lc_kafka_prop_t;

/* The kafka.* keys, and what the clients need of other keys. Strings and properties are
 * borrowed (the configuration owns them). */
typedef struct lc_kafka_opts {
    const char *brokers;           /* kafka.brokers */
    const char *group_id;          /* kafka.group_id */
    const char *input_topic;       /* kafka.input_topic */
    const char *output_topic;      /* kafka.output_topic */
    const char *transactional_id;  /* kafka.transactional_id (when transactional) */
    int startup_timeout_s;         /* kafka.startup_timeout_s */
    lc_group_protocol_t group_protocol;      /* kafka.group_protocol */
    const lc_kafka_prop_t *consumer_props;   /* kafka.consumer */
    size_t n_consumer_props;
    const lc_kafka_prop_t *producer_props;   /* kafka.producer */
    size_t n_producer_props;
    /* kafka.aws_iam: MSK IAM access control for both clients (CONTRACT §7) */
    bool aws_iam;                  /* the section is there: IAM on */
    lc_aws_options_t aws;          /* kafka.aws_iam.region, .profile, .role_arn,
                                    * .role_session_name; the endpoints stay the standard ones */
    /* from other keys (the configuration sets them) */
    const char *config_path;       /* property errors name config_path:line */
    bool transactional;            /* delivery: exactly_once */
    size_t max_record_bytes;       /* input.max_record_bytes: message.max.bytes fits its output */
} lc_kafka_opts_t;

/*
 * The consumer's and producer's rd_kafka_conf_t. NULL with errstr on a bad property (the
 * message names the property and its config line). The caller owns the result.
 * With o->aws_iam, the conf is switched to MSK IAM (lc_msk_iam_conf_set) with iam_refresh as
 * its token refresh callback: librdkafka calls it with the opaque the caller then gives the
 * conf, which must lead to the lc_msk_iam_t the clients share (lc_msk_iam_refresh). A
 * pass-through value for a property IAM owns (lc_kafka_iam_conflict) is logged and ignored.
 * iam_refresh is ignored without o->aws_iam.
 */
rd_kafka_conf_t *lc_kafka_consumer_conf(const lc_kafka_opts_t *o,
                                        lc_msk_iam_refresh_cb_t *iam_refresh, char *errstr,
                                        size_t errlen);
rd_kafka_conf_t *lc_kafka_producer_conf(const lc_kafka_opts_t *o,
                                        lc_msk_iam_refresh_cb_t *iam_refresh, char *errstr,
                                        size_t errlen);

/* rd_kafka_new of a conf from the functions above (taken in every case), then, with
 * o->aws_iam, the token refresh on librdkafka's background thread
 * (lc_msk_iam_enable_background). NULL with errstr on failure. */
rd_kafka_t *lc_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, const lc_kafka_opts_t *o,
                         char *errstr, size_t errlen);

/* Checks pass-through properties as the conf functions apply them (the configuration's
 * validation hook). Returns 0, or -1 with *bad the index of the first property librdkafka
 * refuses and its reason in why. Logs nothing. */
int lc_kafka_check_props(const lc_kafka_prop_t *props, size_t n, size_t *bad, char *why,
                         size_t whylen);

/* Whether the librdkafka this program runs with can use group protocol gp: 0, or -1 with
 * the reason in why (the consumer protocol needs librdkafka 2.12 or newer). */
int lc_kafka_group_protocol_supported(lc_group_protocol_t gp, char *why, size_t whylen);

/* Why the consumer pass-through property `name` cannot be used with group protocol gp
 * (a sentence naming what to use instead), or NULL when it can. The configuration's
 * validation hook refuses such a property with its file:line. */
const char *lc_kafka_prop_refused(lc_group_protocol_t gp, const char *name);

/* With MSK IAM on, the properties it owns: security.protocol (SASL_SSL), sasl.mechanism and
 * its alias sasl.mechanisms (OAUTHBEARER), every sasl.oauthbearer.* (the tokens are IAM's),
 * enable.sasl.oauthbearer.unsecure.jwt (false). Returns 0 when no pass-through property
 * says otherwise, else -1 with *bad the index of the first that does and the reason in why
 * (which shows no value). */
int lc_kafka_iam_conflict(const lc_kafka_prop_t *props, size_t n, size_t *bad, char *why,
                          size_t whylen);

/* Routes librdkafka's own log lines through lc_log (component "rdkafka"). */
void lc_kafka_route_logs(rd_kafka_conf_t *conf);

/*
 * Waits up to timeout_ms for the cluster to answer a metadata request. Returns 0 when it
 * did; fills *input_exists / *output_exists for the two topics. -1 with errstr otherwise,
 * and at once when `auth_error` (a buffer the handle's error_cb fills on
 * RD_KAFKA_RESP_ERR__AUTHENTICATION; may be NULL) holds a message: wrong credentials do not
 * heal by waiting.
 */
int lc_kafka_wait_cluster(rd_kafka_t *rk, const char *input_topic, const char *output_topic,
                          int timeout_ms, const char *auth_error, bool *input_exists,
                          bool *output_exists, char *errstr, size_t errlen);

/* True when the cluster answers a metadata request (no topics) within timeout_ms. */
bool lc_kafka_reachable(rd_kafka_t *rk, int timeout_ms);

/* The consumer's lag: the sum of (high watermark - position) over its assigned partitions,
 * from the values librdkafka has cached (no network), into *lag: -1 when no assigned
 * partition's watermark is known yet, 0 with none assigned. Returns -1 (and leaves *lag)
 * when the assignment cannot be read. */
int lc_kafka_consumer_lag(rd_kafka_t *consumer, int64_t *lag);

/* The `source` header of an output record, `<topic>/<partition>/<offset>` (CONTRACT §4), as
 * snprintf("%s/%d/%lld") would write it, truncated to cap - 1 bytes, without printf's cost
 * on every record. Returns the length written. */
int lc_kafka_format_source(char *buf, size_t cap, const char *topic, int32_t partition,
                           int64_t offset);

#endif
