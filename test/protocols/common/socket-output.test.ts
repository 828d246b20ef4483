// The common socket output: one burst per turn (concatenated up to the bound, by reference under cork
// beyond it), whenWritten below the write bound, and a read gate that resumes only when no reason is held.
import assert from 'node:assert/strict'
import { Duplex } from 'node:stream'
import { test } from 'node:test'
import { SocketOutput } from '../../../src/protocols/common/socket-output.ts'

/** A stream that records what reaches it: each write, corks, pauses and resumes. */
class Recorder extends Duplex {
  readonly writes: Buffer[] = []
  readonly events: string[] = []
  constructor() {
    super({ highWaterMark: 16 })
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.writes.push(chunk)
    done()
  }
  override _writev(chunks: Array<{ chunk: Buffer }>, done: () => void): void {
    this.events.push(`writev ${chunks.length}`)
    for (const c of chunks) this.writes.push(c.chunk)
    done()
  }
  override _read(): void {}
  override pause(): this {
    this.events.push('pause')
    return super.pause()
  }
  override resume(): this {
    this.events.push('resume')
    return super.resume()
  }
}

const tick = () => new Promise((resolve) => process.nextTick(resolve))
const immediate = () => new Promise((resolve) => setImmediate(resolve))

test('small bursts are one concatenated write, large ones go by reference in one writev', async () => {
  const stream = new Recorder()
  const out = new SocketOutput(stream, { flushOn: 'tick', concatBytesMax: 8, writeBufferBytesMax: 1 << 20 })
  out.write(Buffer.from('ab'))
  out.writeAll([Buffer.from('cd'), Buffer.from('ef')])
  assert.equal(out.bufferedBytes, 6)
  assert.equal(stream.writes.length, 0, 'nothing is written before the turn ends')
  await tick()
  assert.deepEqual(
    stream.writes.map((b) => b.toString()),
    ['abcdef'],
  )
  const big = Buffer.alloc(16, 1)
  out.write(Buffer.from('x'))
  out.write(big)
  await tick()
  assert.equal(stream.writes.at(-1), big, 'a large chunk is written by reference')
  assert.ok(stream.events.includes('writev 2'))
})

test('setImmediate bursts gather writes from the whole turn; flush() writes at once', async () => {
  const stream = new Recorder()
  const out = new SocketOutput(stream, { flushOn: 'immediate', concatBytesMax: 1024, writeBufferBytesMax: 1 << 20 })
  out.write(Buffer.from('a'))
  await tick()
  out.write(Buffer.from('b'))
  assert.equal(stream.writes.length, 0)
  await immediate()
  assert.deepEqual(
    stream.writes.map((b) => b.toString()),
    ['ab'],
  )
  out.write(Buffer.from('c'))
  out.flush()
  assert.equal(stream.writes.at(-1)?.toString(), 'c')
})

test('reading pauses on the first reason held and resumes only when none is', () => {
  const stream = new Recorder()
  const out = new SocketOutput(stream, { flushOn: 'tick', concatBytesMax: 0, writeBufferBytesMax: 1 << 20 })
  out.hold('inflight')
  out.hold('alarm')
  assert.deepEqual(out.pausedFor, ['inflight', 'alarm'])
  out.release('inflight')
  assert.equal(out.paused, true)
  out.release('alarm')
  out.release('alarm')
  assert.equal(out.paused, false)
  assert.deepEqual(stream.events, ['pause', 'resume'])
})

test('whenWritten waits for the write buffer to drain below the bound; write is a pause reason until then', async () => {
  const stream = new Recorder()
  let drained = 0
  // A stream that holds writes until released, so its buffer stays over the bound.
  const pending: Array<() => void> = []
  stream._write = (chunk: Buffer, _encoding, done) => {
    stream.writes.push(chunk)
    pending.push(done)
  }
  const out = new SocketOutput(stream, {
    flushOn: 'tick',
    concatBytesMax: 0,
    writeBufferBytesMax: 4,
    onDrain: () => drained++,
  })
  let written = false
  out.write(Buffer.alloc(20)) // over the stream's highWaterMark too, so it will emit drain
  out.whenWritten(() => {
    written = true
  })
  out.flush()
  assert.equal(written, false)
  assert.deepEqual(out.pausedFor, ['write'])
  for (const done of pending.splice(0)) done()
  await tick()
  assert.equal(written, true)
  assert.equal(out.paused, false)
  assert.equal(drained, 1)
})

test('after close nothing queued or written goes out and the gate leaves the stream alone', async () => {
  const stream = new Recorder()
  const out = new SocketOutput(stream, { flushOn: 'tick', concatBytesMax: 0, writeBufferBytesMax: 1 << 20 })
  out.write(Buffer.from('lost'))
  out.close()
  out.write(Buffer.from('also lost'))
  out.hold('input')
  await tick()
  assert.equal(stream.writes.length, 0)
  assert.deepEqual(stream.events, [])
})
