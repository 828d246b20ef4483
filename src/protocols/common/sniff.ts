// Two protocols on one port (AMQP 0-9-1 and AMQP 1.0 on 5672, as RabbitMQ and Artemis serve them): the first
// bytes of a connection say which one it speaks. The socket is read until enough bytes are there, then the
// bytes are put back (unshift) so the chosen protocol reads the connection from its very first byte.
import type { Socket } from 'node:net'

/**
 * Calls `decide` with the first `bytes` bytes (fewer if the peer sends fewer and stops, or ends), with the
 * socket paused and those bytes unread again; reading resumes after `decide` returns. A silent peer is left to the protocol chosen on timeout.
 */
export function sniff(socket: Socket, bytes: number, timeoutMs: number, decide: (head: Buffer) => void): void {
  let head: Buffer = Buffer.alloc(0)
  let done = false
  const finish = () => {
    if (done) return
    done = true
    clearTimeout(timer)
    socket.off('data', onData)
    socket.off('end', finish)
    socket.pause()
    if (head.length > 0) socket.unshift(head)
    decide(head)
    // The chosen protocol's data listener is attached by now; a paused stream does not resume by itself.
    socket.resume()
  }
  const onData = (chunk: Buffer) => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk])
    if (head.length >= bytes) finish()
  }
  const timer = setTimeout(finish, timeoutMs)
  timer.unref()
  socket.on('data', onData)
  socket.once('end', finish)
}
