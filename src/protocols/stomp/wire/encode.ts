// Frames → bytes for the frames a server sends (CONNECTED, MESSAGE, RECEIPT, ERROR). Values are escaped per
// the negotiated version, except in CONNECTED. A body goes out by reference after its head, so a message
// fanned out to many subscribers shares its bytes; `content-length` is always sent with a body.
import { escapeValue } from './escape.js'
import type { StompVersion } from './frame.js'

const NUL = Buffer.from([0])
/** A heart-beat: one EOL. */
export const HEARTBEAT = Buffer.from('\n')

export type HeaderList = Array<readonly [string, string]>

export function encodeFrame(
  command: string,
  headers: HeaderList,
  version: StompVersion,
  body?: Buffer,
): Buffer | Buffer[] {
  const escaped = command !== 'CONNECTED'
  let head = `${command}\n`
  for (const [name, value] of headers)
    head += escaped ? `${escapeValue(name, version)}:${escapeValue(value, version)}\n` : `${name}:${value}\n`
  if (body === undefined || body.length === 0) return Buffer.from(`${head}\n\0`)
  head += `content-length:${body.length}\n\n`
  return [Buffer.from(head), body, NUL]
}
