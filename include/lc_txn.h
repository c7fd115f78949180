/*
 * lc_txn.h - the exactly_once delivery mode (CONTRACT §6), shaped like librdkafka's
 * examples/transactions.c: one micro-batch is one Kafka transaction holding its output
 * records and the consumer's positions (send_offsets_to_transaction). On an abortable error
 * the transaction is aborted and the consumer rewinds to where the batch started; a fenced
 * or fatal error stops the service. No transaction is open while the consumer polls, so a
 * rebalance never gives a partition away with uncommitted work in a transaction.
 *
 * The mode keeps, per input partition, where the batch in hand starts (to rewind to) and
 * where it ends (the position to commit).
 */
#ifndef LC_TXN_H
#define LC_TXN_H

#include "lc_delivery.h"

/* The exactly_once delivery mode (lc_delivery.h). */
extern const lc_delivery_ops_t lc_txn_delivery;

#endif
