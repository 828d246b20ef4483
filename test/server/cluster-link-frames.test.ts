// The cluster link's frames: a document with byte strings anywhere in it (record batches, message values, header
// values in nested arrays) comes back equal, bytes as Buffers; a frame split over many chunks or several frames
// in one chunk are read whole; a frame over the bound, or one whose byte strings or document are malformed, is
// refused with the error that closes the link.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeFrame, FrameReader } from '../../src/server/cluster-link/frames.ts'

const body = {
  op: 'deliver',
  id: 7,
  messages: [
    { value: Buffer.from('first'), key: null, headers: [['h', Buffer.from([0, 255, 1])]], n: 1 },
    { value: Buffer.alloc(0), key: Buffer.from('k'), headers: [], nested: { deep: [Buffer.from('x')] } },
  ],
  // An object that merely has a $b key is not a byte string.
  table: { $b: 1, other: true },
}

test('documents with byte strings round-trip, over any chunking', () => {
  const frame = encodeFrame(body)
  const two = Buffer.concat([frame, encodeFrame({ op: 'ack', ids: [1, 2] })])
  for (const step of [1, 3, 7, two.length]) {
    const reader = new FrameReader(1 << 20)
    const read: unknown[] = []
    for (let at = 0; at < two.length; at += step) read.push(...reader.push(two.subarray(at, at + step)))
    assert.deepEqual(read, [body, { op: 'ack', ids: [1, 2] }], `chunks of ${step} bytes`)
    const first = read[0] as typeof body
    assert.ok(Buffer.isBuffer(first.messages[0]!.value) && Buffer.isBuffer(first.messages[1]!.nested!.deep[0]))
  }
})

test('malformed frames are refused', () => {
  const framed = (inner: Buffer) => {
    const out = Buffer.alloc(4 + inner.length)
    out.writeUInt32BE(inner.length, 0)
    inner.copy(out, 4)
    return out
  }
  const json = (text: string, extra = Buffer.alloc(0)) => {
    const doc = Buffer.from(text)
    const head = Buffer.alloc(4)
    head.writeUInt32BE(doc.length, 0)
    return framed(Buffer.concat([head, doc, extra]))
  }
  const cases: Array<[string, Buffer, RegExp]> = [
    ['over the bound', encodeFrame({ big: Buffer.alloc(2000) }), /exceeds 1024/],
    ['no document length', framed(Buffer.from([1, 2])), /no document length/],
    ['document longer than the frame', framed(Buffer.from([0, 0, 0, 50, 123])), /document longer/],
    ['truncated byte string', json('{}', Buffer.from([0, 0])), /truncated/],
    ['byte string longer than the frame', json('{}', Buffer.from([0, 0, 0, 9, 1])), /longer than the frame/],
    ['unknown byte string', json('{"v":{"$b":0}}'), /does not carry/],
    ['not JSON', json('{nope'), /not JSON/],
  ]
  for (const [name, frame, error] of cases) assert.throws(() => new FrameReader(1024).push(frame), error, name)
})
