// Settings of the producer-transaction coordinator (BrokerOptions.producerTransactions).

export interface ProducerTransactionOptions {
  /** Kafka transaction.max.timeout.ms: the longest transaction.timeout.ms a producer may ask for. */
  timeoutMsMax?: number
  /** Partitions one transaction may write (a bound on the markers one EndTxn writes). */
  partitionsMax?: number
  /** Transactional ids remembered at once. */
  transactionalIdsMax?: number
  /**
   * Kafka transactional.id.expiration.ms (default 7 days): an id with no transaction begun or ended for this
   * long is forgotten (durably); its next InitProducerId starts afresh with a new producer id.
   */
  transactionalIdExpirationMs?: number
  /** How often open transactions are checked against their timeout, and idle ids against their expiry. */
  checkEveryMs?: number
}
