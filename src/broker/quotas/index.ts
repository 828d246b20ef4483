// Client quotas: byte rates and request time per user and client id, durable, protocol-free.
export { Quotas } from './quotas.js'
export { entityKey } from './store.js'
export * from './types.js'
