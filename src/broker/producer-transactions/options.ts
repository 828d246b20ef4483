// Settings of the producer-transaction coordinator (BrokerOptions.producerTransactions).

export interface ProducerTransactionOptions {
  /** Kafka transaction.max.timeout.ms: the longest transaction.timeout.ms a producer may ask for. */
  timeoutMsMax?: number
  /** Partitions one transaction may write (a bound on the markers one EndTxn writes). */
  partitionsMax?: number
  /** Transactional ids remembered at once. */
  transactionalIdsMax?: number
  /** How often open transactions are checked against their timeout. */
  checkEveryMs?: number
}
