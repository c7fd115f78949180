/*
 * lc_kafka.h - librdkafka client set-up shared by the service, loggen and bench tools:
 * configuration from lc_config (our defaults, then the user's pass-through properties, then
 * the properties delivery guarantees depend on), log lines routed through lc_log.
 */
#ifndef LC_KAFKA_H
#define LC_KAFKA_H

#include <librdkafka/rdkafka.h>

#include "lc_config.h"

/* The consumer's and producer's rd_kafka_conf_t. NULL with errstr on a bad property (the
 * message names the property and its config line). The caller owns the result. */
rd_kafka_conf_t *lc_kafka_consumer_conf(const lc_config_t *cfg, char *errstr, size_t errlen);
rd_kafka_conf_t *lc_kafka_producer_conf(const lc_config_t *cfg, char *errstr, size_t errlen);

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
