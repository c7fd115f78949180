/*
 * lc_delivery.h - the delivery modes (CONTRACT §6).
 */
#ifndef LC_DELIVERY_H
#define LC_DELIVERY_H

typedef enum lc_delivery {
    LC_DELIVERY_AT_LEAST_ONCE = 0,   /* commit offsets after the outputs are acknowledged */
    LC_DELIVERY_EXACTLY_ONCE,        /* one Kafka transaction per batch */
} lc_delivery_t;

/* "at_least_once", "exactly_once", NULL: indexed by lc_delivery_t. */
extern const char *const lc_delivery_names[];

#endif
