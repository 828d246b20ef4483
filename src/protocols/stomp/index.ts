// STOMP 1.0 / 1.1 / 1.2 adapter: listener (TCP, TLS and WebSocket), one connection per client.

export { defaultStompLimits, type StompLimits } from './connection/context.js'
export type { DeadLetterStrategy } from './connection/redelivery.js'
export { type StompListener, type StompListenerContext, startStompListener } from './listener.js'
