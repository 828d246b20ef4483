// The frames and sections written for every message, encoded by hand: a transfer's frame head, an accepted
// disposition, a delivery's header section and a data section's head. They are byte for byte what the
// generic encoder (toDescribed + Encoder) writes for the same fields — test/protocols/amqp10/per-message.test.ts
// compares the two — without its per-field objects, which cost more than the rest of a small message's path.
import { FRAME_AMQP } from './frames.js'

const TRANSFER = 0x14
const DISPOSITION = 0x15
const HEADER = 0x70
const DATA = 0x75
/** Frame header (8) + descriptor (3) + list32 head (9): room before the fields. */
const HEAD_ROOM = 20

/** A small writer over one buffer sized for the largest case; fields in the smallest encoding. */
class Fields {
  readonly buf: Buffer
  pos: number

  constructor(size: number, start: number) {
    this.buf = Buffer.allocUnsafe(size)
    this.pos = start
  }

  uint(n: number): void {
    const b = this.buf
    if (n === 0) b[this.pos++] = 0x43
    else if (n <= 0xff) {
      b[this.pos++] = 0x52
      b[this.pos++] = n
    } else {
      b[this.pos++] = 0x70
      b.writeUInt32BE(n, this.pos)
      this.pos += 4
    }
  }

  bool(v: boolean): void {
    this.buf[this.pos++] = v ? 0x41 : 0x42
  }

  nil(): void {
    this.buf[this.pos++] = 0x40
  }

  binary(v: Buffer): void {
    const b = this.buf
    if (v.length <= 0xff) {
      b[this.pos++] = 0xa0
      b[this.pos++] = v.length
    } else {
      b[this.pos++] = 0xb0
      b.writeUInt32BE(v.length, this.pos)
      this.pos += 4
    }
    v.copy(b, this.pos)
    this.pos += v.length
  }

  /**
   * Writes the described list that starts at `at` (descriptor code, then the fields written from at + 12):
   * list8 when it fits, else list32. Returns where the described value now starts.
   */
  describedList(at: number, code: number, count: number): number {
    const b = this.buf
    const fieldsStart = at + 12
    const fieldBytes = this.pos - fieldsStart
    if (count === 0) {
      // An empty list: descriptor + list0, right before where the fields would have been.
      b[fieldsStart - 1] = 0x45
      b[fieldsStart - 4] = 0x00
      b[fieldsStart - 3] = 0x53
      b[fieldsStart - 2] = code
      this.pos = fieldsStart
      return fieldsStart - 4
    }
    if (fieldBytes + 1 <= 0xff) {
      const start = fieldsStart - 6
      b[start] = 0x00
      b[start + 1] = 0x53
      b[start + 2] = code
      b[start + 3] = 0xc0
      b[start + 4] = fieldBytes + 1
      b[start + 5] = count
      return start
    }
    b[at] = 0x00
    b[at + 1] = 0x53
    b[at + 2] = code
    b[at + 3] = 0xd0
    b.writeUInt32BE(fieldBytes + 4, at + 4)
    b.writeUInt32BE(count, at + 8)
    return at
  }
}

/** Writes the 8-byte frame header in front of a performative that starts at `start` (returns the frame). */
function frame(f: Fields, start: number, channel: number, payloadLength: number): Buffer {
  const head = start - 8
  const b = f.buf
  b.writeUInt32BE(f.pos - head + payloadLength, head)
  b[head + 4] = 2
  b[head + 5] = FRAME_AMQP
  b.writeUInt16BE(channel, head + 6)
  return b.subarray(head, f.pos)
}

/**
 * The head of one transfer frame (frame header and performative; the payload follows it on the wire): the
 * first frame of a delivery carries its id, tag and message format 0, later ones (`more`) only the handle.
 */
export function transferFrameHead(
  channel: number,
  handle: number,
  first: { deliveryId: number; tag: Buffer } | undefined,
  settled: boolean,
  more: boolean,
  payloadLength: number,
): Buffer {
  const f = new Fields(HEAD_ROOM + 5 + (first === undefined ? 3 : 5 + 5 + first.tag.length + 5) + 2, HEAD_ROOM)
  f.uint(handle)
  if (first === undefined) {
    f.nil()
    f.nil()
    f.nil()
  } else {
    f.uint(first.deliveryId)
    f.binary(first.tag)
    f.uint(0)
  }
  f.bool(settled)
  f.bool(more)
  return frame(f, f.describedList(8, TRANSFER, 6), channel, payloadLength)
}

/** A settled disposition with the accepted outcome for deliveries first..last (role receiver: our outcome). */
export function acceptedFrame(channel: number, first: number, last: number): Buffer {
  const f = new Fields(HEAD_ROOM + 1 + 5 + 5 + 1 + 4, HEAD_ROOM)
  f.bool(true)
  f.uint(first)
  if (last !== first) f.uint(last)
  else f.nil()
  f.bool(true)
  // accepted: a described empty list
  f.buf[f.pos++] = 0x00
  f.buf[f.pos++] = 0x53
  f.buf[f.pos++] = 0x24
  f.buf[f.pos++] = 0x45
  return frame(f, f.describedList(8, DISPOSITION, 5), channel, 0)
}

/** The header section of a delivery: durable, then priority, ttl and delivery-count when given. */
export function headerSection(
  durable: boolean,
  priority: number | undefined,
  ttl: number | undefined,
  deliveryCount: number | undefined,
): Buffer {
  const f = new Fields(12 + 1 + 2 + 5 + 1 + 5, 12)
  const count = deliveryCount !== undefined ? 5 : ttl !== undefined ? 3 : priority !== undefined ? 2 : 1
  f.bool(durable)
  if (count >= 2) {
    if (priority === undefined) f.nil()
    else {
      f.buf[f.pos++] = 0x50
      f.buf[f.pos++] = priority
    }
  }
  if (count >= 3) {
    if (ttl === undefined) f.nil()
    else f.uint(ttl)
  }
  if (count >= 5) {
    f.nil() // first-acquirer
    f.uint(deliveryCount!)
  }
  const start = f.describedList(0, HEADER, count)
  return f.buf.subarray(start, f.pos)
}

/** A data section's descriptor and binary constructor for a body of `length` bytes (the body follows). */
export function dataSectionHead(length: number): Buffer {
  if (length <= 0xff) return Buffer.from([0x00, 0x53, DATA, 0xa0, length])
  const b = Buffer.from([0x00, 0x53, DATA, 0xb0, 0, 0, 0, 0])
  b.writeUInt32BE(length, 4)
  return b
}
