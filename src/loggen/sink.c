/* sink.c - where loggen's records go: standard output, or Kafka through librdkafka. */
#include "loggen.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#define MAX_ERRORS_SHOWN 5

void sink_note_failure(sink_t *s, const char *what)
{
    if (s->failed == 0)
        snprintf(s->first_error, sizeof s->first_error, "%s", what);
    if (s->failed < MAX_ERRORS_SHOWN)
        fprintf(stderr, "loggen: delivery failed: %s\n", what);
    s->failed++;
}

/* librdkafka calls this from rd_kafka_poll/flush, on this thread: no locking needed. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    sink_t *s = opaque;
    if (msg->err)
        sink_note_failure(s, rd_kafka_err2str(msg->err));
    else
        s->delivered++;
}

static int kafka_set(rd_kafka_conf_t *conf, const char *name, const char *value,
                     char *errstr, size_t errlen)
{
    char why[256];
    if (rd_kafka_conf_set(conf, name, value, why, sizeof why) != RD_KAFKA_CONF_OK)
        return lc_err(errstr, errlen, "%s=%s: %s", name, value, why);
    return 0;
}

/* loggen's producer settings, then every -X (which may override them). */
static int kafka_configure(rd_kafka_conf_t *conf, const options_t *opt,
                           char *errstr, size_t errlen)
{
    char max_bytes[32];
    uint64_t needed = opt->max_record_bytes + 1024;  /* the largest too_large record fits */
    snprintf(max_bytes, sizeof max_bytes, "%" PRIu64, needed > 1000000 ? needed : 1000000);
    const char *defaults[][2] = {
        { "bootstrap.servers", opt->brokers },
        { "client.id", "loggen" },
        { "acks", "all" },
        { "enable.idempotence", "true" },
        { "linger.ms", "5" },
        { "message.max.bytes", max_bytes },
        /* too_large records are mostly padding: compressed, they pass a broker with the
         * default message.max.bytes (~1 MB) without a topic override. */
        { "compression.type", "lz4" },
    };
    for (size_t i = 0; i < LC_ARRAY_SIZE(defaults); i++)
        if (kafka_set(conf, defaults[i][0], defaults[i][1], errstr, errlen) < 0)
            return -1;
    for (size_t i = 0; i < opt->nproperties; i++) {
        char name[256];
        const char *property = opt->properties[i];
        const char *eq = strchr(property, '=');
        snprintf(name, sizeof name, "%.*s", (int)(eq - property), property);
        if (kafka_set(conf, name, eq + 1, errstr, errlen) < 0)
            return -1;
    }
    return 0;
}

/* Fails when no broker answers, or the topic does not exist (the local broker does not
 * create topics on first use): better said now than after message.timeout.ms. */
static int kafka_check_topic(rd_kafka_t *rk, const char *topic, char *errstr, size_t errlen)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (!rkt)
        return lc_err(errstr, errlen, "topic %s: %s", topic,
                      rd_kafka_err2str(rd_kafka_last_error()));
    int rc = -1;
    /* Right after the topic was created, metadata may not know it yet: ask a few times. */
    for (int attempt = 0; attempt < 10; attempt++) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
        if (err) {
            lc_err(errstr, errlen, "no answer from the brokers: %s", rd_kafka_err2str(err));
            break;
        }
        err = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_NO_ERROR;
        rd_kafka_metadata_destroy(md);
        if (err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            rc = 0;
            break;
        }
        lc_err(errstr, errlen, "topic %s does not exist", topic);
        struct timespec pause = { 1, 0 };
        nanosleep(&pause, NULL);
    }
    rd_kafka_topic_destroy(rkt);
    return rc;
}

int sink_open(sink_t *s, const options_t *opt, char *errstr, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->opt = opt;
    if (opt->to_stdout) {
        s->out = stdout;
        static char buffer[1 << 20];
        setvbuf(stdout, buffer, _IOFBF, sizeof buffer);
        return 0;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (kafka_configure(conf, opt, errstr, errlen) < 0) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, s);
    char why[512];
    s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!s->rk) {
        rd_kafka_conf_destroy(conf);
        lc_err(errstr, errlen, "cannot create the producer: %s", why);
        return -1;
    }
    if (kafka_check_topic(s->rk, opt->topic, errstr, errlen) < 0)
        return -2;
    return 0;
}

int sink_write(sink_t *s, const record_t *rec)
{
    if (s->out) {
        fwrite(rec->value.data, 1, rec->value.len, s->out);
        fputc('\n', s->out);
        s->written++;
        s->delivered++;
        return 0;
    }
    static const char empty[1] = "";
    /* A zero-length value is not a tombstone: hand librdkafka a non-NULL pointer. */
    const char *value = rec->tombstone ? NULL : rec->value.len ? rec->value.data : empty;
    size_t key_len = strlen(rec->key);
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            s->rk, RD_KAFKA_V_TOPIC(s->opt->topic),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE((void *)value, rec->tombstone ? 0 : rec->value.len),
            RD_KAFKA_V_KEY(key_len ? rec->key : NULL, key_len),
            RD_KAFKA_V_END);
        if (!err) {
            s->written++;
            return 0;
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            s->written++;
            sink_note_failure(s, rd_kafka_err2str(err));
            return -1;
        }
        rd_kafka_poll(s->rk, 100);   /* the queue is full: let deliveries drain it */
    }
}

void sink_idle(sink_t *s, int ms)
{
    if (s->rk) {
        rd_kafka_poll(s->rk, ms);
    } else if (ms > 0) {
        struct timespec pause = { ms / 1000, (long)(ms % 1000) * 1000000L };
        nanosleep(&pause, NULL);
    }
}

uint64_t sink_in_flight(const sink_t *s)
{
    return s->rk ? (uint64_t)rd_kafka_outq_len(s->rk) : 0;
}

void sink_close(sink_t *s)
{
    if (s->rk)
        rd_kafka_destroy(s->rk);
    s->rk = NULL;
}
