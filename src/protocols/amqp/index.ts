// AMQP 0-9-1 adapter: amqplib, pika and amqp-tools talk to the broker through this listener.
export { type AmqpListener, type AmqpListenerContext, type AmqpListenerOptions, startAmqpListener } from './listener.js'
