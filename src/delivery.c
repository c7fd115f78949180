/* delivery.c - the delivery modes (see lc_delivery.h) and which module implements each. */
#include "lc_delivery.h"

#include "lc_offsets.h"
#include "lc_txn.h"

const char *const lc_delivery_names[] = {"at_least_once", "exactly_once", NULL};

const lc_delivery_ops_t *lc_delivery_ops(lc_delivery_t mode)
{
    return mode == LC_DELIVERY_EXACTLY_ONCE ? &lc_txn_delivery : &lc_offsets_delivery;
}
