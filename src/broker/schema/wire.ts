// Confluent wire format v0: magic byte 0, the schema id as a big-endian int32, then the payload
// (Avro binary, or UTF-8 JSON for JSON Schema). Bytes only; the store supplies the schemas.
import { assert } from '../../util/assert.js'

export const MAGIC_BYTE = 0
export const HEADER_SIZE = 5

export function frame(id: number, payload: Buffer): Buffer {
  assert(Number.isInteger(id) && id >= 0 && id <= 0x7fffffff, 'schema id out of range')
  const out = Buffer.allocUnsafe(HEADER_SIZE + payload.length)
  out[0] = MAGIC_BYTE
  out.writeInt32BE(id, 1)
  payload.copy(out, HEADER_SIZE)
  return out
}

/** The schema id of a framed value, or -1 when the value does not start with the v0 header. */
export function frameId(value: Buffer): number {
  if (value.length < HEADER_SIZE || value[0] !== MAGIC_BYTE) return -1
  return value.readInt32BE(1)
}
