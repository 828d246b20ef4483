// Hostile request bodies over raw sockets: an oversized body is answered 413 while the client is still
// sending (never read whole), bodies held at once across the listener are bounded (httpBodiesBytesMax: past
// it, 503 in the service's error shape, and the bytes come back when a request ends), and after many
// concurrent oversized bodies the memory in use (heap + external, after a full GC) is back near where it was.
import assert from 'node:assert/strict'
import net from 'node:net'
import { type TestContext, test } from 'node:test'
import { fullGc, memoryInUse } from '../../../../src/util/memory.ts'
import { startHarness } from '../helpers.ts'

const SQS = 'x-amz-target: AmazonSQS.SendMessage\r\ncontent-type: application/x-amz-json-1.0\r\n'
const CHUNK = Buffer.alloc(64 * 1024, 'a')
const chunked = Buffer.concat([Buffer.from(`${CHUNK.length.toString(16)}\r\n`), CHUNK, Buffer.from('\r\n')])

async function start(t: TestContext, httpBodiesBytesMax?: number): Promise<number> {
  const config = httpBodiesBytesMax === undefined ? undefined : { httpBodiesBytesMax }
  return (await startHarness(t, undefined, config)).listener.port
}

/** A POST whose body the test sends piece by piece; `answer` resolves with the response received so far. */
function open(port: number, path: string, headers: string) {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  let text = ''
  const answer = new Promise<string>((resolve) => {
    socket.on('data', (d) => {
      text += d
      if (text.includes('\r\n\r\n')) resolve(text)
    })
    socket.on('close', () => resolve(text))
  })
  socket.write(`POST ${path} HTTP/1.1\r\nhost: x\r\n${headers}\r\n`)
  let answered = false
  void answer.then(() => {
    answered = true
  })
  return {
    socket,
    answer,
    /** Sends chunks until the server answers or `max` bytes went; the bytes sent. */
    async send(piece: Buffer, max: number): Promise<number> {
      let sent = 0
      while (!answered && !socket.destroyed && sent < max) {
        sent += piece.length
        if (!socket.write(piece)) await new Promise((r) => setTimeout(r, 5))
        await new Promise((r) => setImmediate(r))
      }
      return sent
    },
  }
}

const status = (answer: string) => Number(answer.split(' ')[1])

test('an oversized body is answered 413 while the client is still sending it', async (t) => {
  const port = await start(t)
  // Declared oversized: refused on the header, before any of the body is read.
  const declared = open(port, '/', `${SQS}content-length: ${100 * 1024 * 1024}\r\n`)
  declared.socket.write(CHUNK)
  assert.equal(status(await declared.answer), 413)
  assert.match(await declared.answer, /RequestEntityTooLarge/)
  declared.socket.destroy()

  // Chunked: refused once past bodyLimit (4 MiB), long before the 64 MiB the client meant to send.
  const streamed = open(port, '/api/v1/streams', 'content-type: application/json\r\ntransfer-encoding: chunked\r\n')
  const sent = await streamed.send(chunked, 64 * 1024 * 1024)
  assert.equal(status(await streamed.answer), 413)
  assert.ok(sent < 64 * 1024 * 1024, `answered after ${sent} bytes, before the body ended`)
  streamed.socket.destroy()
})

test('bodies held at once are bounded: past the budget 503 in the service shape, bytes back when a request ends', async (t) => {
  const port = await start(t, 1024 * 1024)
  const first = open(port, '/', `${SQS}transfer-encoding: chunked\r\n`)
  await first.send(chunked, 10 * CHUNK.length) // 640 KiB held, not finished
  const second = open(port, '/', `${SQS}transfer-encoding: chunked\r\n`)
  await second.send(chunked, 10 * CHUNK.length)
  assert.equal(status(await second.answer), 503, 'the second body does not fit beside the first')
  assert.match(await second.answer, /ServiceUnavailable/)
  second.socket.destroy()
  const admin = open(port, '/api/v1/streams', 'content-type: application/json\r\ntransfer-encoding: chunked\r\n')
  await admin.send(chunked, 10 * CHUNK.length)
  assert.equal(status(await admin.answer), 503)
  assert.match(await admin.answer, /UNAVAILABLE/)
  admin.socket.destroy()

  // The first request ends (its body is not valid JSON: 400); its bytes are given back.
  first.socket.write('0\r\n\r\n')
  assert.equal(status(await first.answer), 400)
  first.socket.destroy()
  const third = open(port, '/', `${SQS}transfer-encoding: chunked\r\n`)
  await third.send(chunked, 10 * CHUNK.length)
  third.socket.write('0\r\n\r\n')
  assert.equal(status(await third.answer), 400, 'the budget is free again')
  third.socket.destroy()
})

test('after many concurrent oversized bodies, memory in use (heap + external) is back near where it was', async (t) => {
  const gc = fullGc()
  if (gc === null) return t.skip('no gc available')
  const port = await start(t)
  gc()
  const before = memoryInUse()
  const requests = Array.from({ length: 60 }, (_, i) =>
    open(port, i % 2 === 0 ? '/' : '/subjects/x/versions', `${SQS}transfer-encoding: chunked\r\n`),
  )
  const answers = await Promise.all(
    requests.map(async (r) => {
      await r.send(chunked, 6 * 1024 * 1024)
      const answer = await r.answer
      r.socket.destroy()
      return status(answer)
    }),
  )
  // An answer can be lost to the reset of a socket closed with unread bytes: then the refusal is the close.
  for (const s of answers) assert.ok(s === 413 || s === 503 || Number.isNaN(s), `refused, got ${s}`)
  assert.ok(answers.filter((s) => s === 503).length > 0, 'some were over the budget')
  // The server side of the sockets closes shortly after the clients': give it a few seconds at most.
  let after = Number.POSITIVE_INFINITY
  for (let i = 0; i < 40 && after - before >= 16 * 1024 * 1024; i++) {
    await new Promise((r) => setTimeout(r, 250))
    gc()
    after = memoryInUse()
  }
  assert.ok(after - before < 16 * 1024 * 1024, `memory in use ${before} → ${after}`)
})
