// Idle time-outs both ways (Part 2.4.5): empty frames at half the client's idle time-out keep it from closing
// on us; silence from the client for twice our own time-out closes the connection.
import type { SocketOutput } from '../common/socket-output.js'
import { encodeFrame, FRAME_AMQP } from './codec/frames.js'

export function startHeartbeats(
  oursMs: number,
  remoteIdleMs: number | undefined,
  output: SocketOutput,
  on: { lastRead(): number; expired(): void },
): NodeJS.Timeout {
  const sendEvery = remoteIdleMs !== undefined && remoteIdleMs > 0 ? Math.max(100, remoteIdleMs / 2) : 0
  const tick = Math.min(sendEvery || oursMs, oursMs)
  let lastSent = Date.now()
  const timer = setInterval(() => {
    const now = Date.now()
    if (oursMs > 0 && now - on.lastRead() > oursMs * 2) {
      on.expired()
      return
    }
    if (sendEvery > 0 && now - Math.max(lastSent, output.lastWrite) >= sendEvery) {
      output.write(encodeFrame(FRAME_AMQP, 0, null))
      lastSent = now
    }
  }, tick)
  timer.unref()
  return timer
}
