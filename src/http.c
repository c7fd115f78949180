/* http.c - the HTTP endpoint (libmicrohttpd): GET /metrics and GET /healthz. */
#include "lc_http.h"

#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct lc_http {
    struct MHD_Daemon *daemon;
    lc_metrics_t *metrics;
};

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status,
                               const char *content_type, lc_buf_t *body)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        body->len, body->data, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", content_type);
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result handle_request(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **req_cls)
{
    (void)version; (void)upload_data; (void)upload_data_size; (void)req_cls;
    lc_http_t *h = cls;
    lc_buf_t body = {0};
    enum MHD_Result r;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        lc_buf_puts(&body, "method not allowed\n");
        r = respond(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", &body);
    } else if (strcmp(url, "/metrics") == 0) {
        lc_metrics_render(h->metrics, &body);
        r = respond(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", &body);
    } else if (strcmp(url, "/healthz") == 0) {
        char reason[160];
        if (lc_metrics_health(h->metrics, reason, sizeof(reason)) == 0) {
            lc_buf_puts(&body, "ok\n");
            r = respond(conn, MHD_HTTP_OK, "text/plain", &body);
        } else {
            lc_buf_printf(&body, "%s\n", reason);
            r = respond(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", &body);
        }
    } else {
        lc_buf_puts(&body, "not found: try /metrics or /healthz\n");
        r = respond(conn, MHD_HTTP_NOT_FOUND, "text/plain", &body);
    }
    lc_buf_free(&body);
    return r;
}

/* Splits "host:port" ("[::1]:9108" too) and resolves it. */
static int resolve_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen,
                          char *errstr, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || !colon[1])
        return lc_err(errstr, errlen, "metrics.listen '%s': expected host:port", listen);
    size_t hl = (size_t)(colon - listen);
    if (listen[0] == '[' && hl >= 2 && listen[hl - 1] == ']') {
        listen++;
        hl -= 2;
    }
    if (hl >= sizeof(host))
        return lc_err(errstr, errlen, "metrics.listen: host too long");
    memcpy(host, listen, hl);
    host[hl] = 0;
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &ai);
    if (rc != 0)
        return lc_err(errstr, errlen, "metrics.listen '%s': %s", host, gai_strerror(rc));
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *sslen = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

lc_http_t *lc_http_start(lc_metrics_t *m, const char *listen, char *errstr, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (resolve_listen(listen, &ss, &sslen, errstr, errlen) != 0)
        return NULL;
    lc_http_t *h = lc_xcalloc(1, sizeof(*h));
    h->metrics = m;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle_request, h,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                                 MHD_OPTION_END);
    if (!h->daemon) {
        lc_err(errstr, errlen, "metrics.listen %s: cannot listen (address in use?)", listen);
        free(h);
        return NULL;
    }
    return h;
}

void lc_http_stop(lc_http_t *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->daemon);
    free(h);
}
