// Consumer-group coordinator: Kafka classic group semantics for log-mode subscriptions, protocol-free.
export * from './coordinator.js'
export { MemoryOffsetStore } from './memory-offsets.js'
export * from './types.js'
