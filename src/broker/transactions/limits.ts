// The bounds of transactions (BrokerOptions.transactionLimits): kept apart so the broker's config imports
// nothing else of this folder.

export interface TransactionLimits {
  /** Message bytes (key, value, headers) one transaction may hold, counted once per destination. */
  bytesMax: number
  /** Sends, acks and nacks one transaction may hold. */
  operationsMax: number
  /** Open transactions one owner (connection, channel, session) may have at once. */
  openPerOwnerMax: number
}

export const defaultTransactionLimits: TransactionLimits = {
  bytesMax: 64 * 1024 * 1024,
  operationsMax: 100_000,
  openPerOwnerMax: 1000,
}
