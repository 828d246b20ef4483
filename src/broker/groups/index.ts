// Consumer-group coordinator: Kafka classic group semantics for log-mode subscriptions, protocol-free.
export { GroupCoordinator, validateMember } from './coordinator.js'
export { MemoryOffsetStore } from './memory-offsets.js'
export {
  EMPTY_GROUP_RETENTION_MS_DEFAULT,
  GROUP_SIZE_MAX_DEFAULT,
  INITIAL_REBALANCE_DELAY_MS_DEFAULT,
  METADATA_BYTES_MAX_DEFAULT,
  NEW_MEMBER_JOIN_TIMEOUT_MS,
  SESSION_TIMEOUT_MS_MAX_DEFAULT,
  SESSION_TIMEOUT_MS_MIN_DEFAULT,
  TICK_INTERVAL_MS_DEFAULT,
} from './rebalance.js'
export * from './types.js'
