/*
 * lc_http.h - the HTTP endpoint (libmicrohttpd, its own thread): GET /metrics (Prometheus
 * text, lc_metrics_render) and GET /healthz (200 "ok" or 503 and the reason,
 * lc_metrics_health).
 */
#ifndef LC_HTTP_H
#define LC_HTTP_H

#include <stddef.h>

#include "lc_metrics.h"

typedef struct lc_http lc_http_t;

/* Starts serving on `listen` ("host:port", "[v6]:port"). `m` is borrowed and must outlive the
 * endpoint. NULL with errstr when the address does not resolve or cannot be bound. */
lc_http_t *lc_http_start(lc_metrics_t *m, const char *listen, char *errstr, size_t errlen);

/* Stops the endpoint and frees it; NULL is fine. */
void lc_http_stop(lc_http_t *h);

#endif
