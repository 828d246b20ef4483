export {
  type Amqp10Listener,
  type Amqp10ListenerContext,
  startAmqp10Listener,
  startSharedAmqp10Listener,
} from './listener.js'
