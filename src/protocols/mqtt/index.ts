// MQTT 3.1.1 / 5.0 adapter: listener (TCP and WebSocket), hub (sessions, retained, wills, $SYS).

export { MqttHub } from './hub/hub.js'
export {
  attachMqttWebSocket,
  handleMqttStream,
  type MqttListener,
  type MqttListenerContext,
  startMqttListener,
} from './listener.js'
export { defaultLimits, type MqttLimits } from './session/session.js'
