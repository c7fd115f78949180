/* delivery.c - the delivery modes (see lc_delivery.h). */
#include "lc_delivery.h"

#include <stddef.h>

const char *const lc_delivery_names[] = {"at_least_once", "exactly_once", NULL};
