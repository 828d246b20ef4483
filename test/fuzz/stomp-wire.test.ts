// Hostile bytes into the STOMP frame parser: valid frames (every client command, escaped headers,
// content-length and NUL-terminated bodies) damaged by truncation, byte flips and insertions, or random
// bytes, fed in random splits. Checked: the parser throws nothing but StompFrameError and never holds more
// than a frame's bound. Then damaged frames go to a real listener over sockets, and stompjs still connects,
// sends and receives. WHARF_LONG=1 runs 1,000,000 parser inputs instead of 2,000.
import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import fc from 'fast-check'
import { clientCommands, type FrameLimits, StompFrameError } from '../../src/protocols/stomp/wire/frame.ts'
import { FrameParser } from '../../src/protocols/stomp/wire/parser.ts'
import { collector, sendWithReceipt, startWharf, stompjs } from '../protocols/stomp/helpers.ts'
import { damagedBytes } from './mutations.ts'

const runs = Number(process.env.WHARF_FUZZ_RUNS) || (process.env.WHARF_LONG === '1' ? 1_000_000 : 2000)
const limits: FrameLimits = { frameBytesMax: 2048, headersMax: 16, headerBytesMax: 256, bodyBytesMax: 1024 }

const text = fc.string({ maxLength: 30 })
const escaped = text.map((s) =>
  s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/:/g, '\\c'),
)
const frame = fc
  .record({
    command: fc.constantFrom(...clientCommands),
    headers: fc.array(fc.tuple(escaped, escaped), { maxLength: 20 }),
    body: fc.uint8Array({ maxLength: 1200 }),
    withLength: fc.boolean(),
    eol: fc.constantFrom('\n', '\r\n'),
    beats: fc.nat(3),
  })
  .map(({ command, headers, body, withLength, eol, beats }) => {
    let head = `${eol.repeat(beats)}${command}${eol}`
    for (const [k, v] of headers) head += `${k}:${v}${eol}`
    const payload = withLength ? Buffer.from(body) : Buffer.from(body.filter((b) => b !== 0))
    if (withLength) head += `content-length:${payload.length}${eol}`
    return Buffer.concat([Buffer.from(`${head}${eol}`), payload, Buffer.from([0])])
  })
const input = fc.oneof(
  frame,
  frame.chain((bytes) => damagedBytes(bytes)),
)

test('the STOMP parser throws only StompFrameError and holds at most a frame of bytes', () => {
  fc.assert(
    fc.property(
      fc.array(input, { minLength: 1, maxLength: 4 }),
      fc.array(fc.nat(4000), { maxLength: 6 }),
      (parts, cuts) => {
        const bytes = Buffer.concat(parts)
        const parser = new FrameParser(limits)
        parser.negotiated('1.2')
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
        let from = 0
        try {
          for (const to of [...points, bytes.length]) {
            parser.push(bytes.subarray(from, to))
            from = to
            assert.ok(parser.bufferedBytes <= limits.frameBytesMax + bytes.length, 'bounded')
            assert.ok(parser.bufferedBytes <= limits.frameBytesMax * 2, `held ${parser.bufferedBytes} bytes`)
          }
        } catch (error) {
          if (!(error instanceof StompFrameError)) throw error
        }
      },
    ),
    { numRuns: runs },
  )
})

test('damaged frames over sockets: each gets ERROR or a close, and a real client still works', async (t) => {
  const w = await startWharf(t, { limits })
  const samples = fc.sample(input, { numRuns: 40, seed: 42 })
  for (const bytes of samples) {
    await new Promise<void>((resolve) => {
      const socket = net.connect(w.port, '127.0.0.1')
      socket.on('error', () => {})
      socket.on('close', () => resolve())
      socket.write('CONNECT\naccept-version:1.2\nhost:/\n\n\0')
      socket.write(bytes)
      setTimeout(() => socket.destroy(), 100)
    })
  }
  const client = await stompjs(t, w)
  const got = collector()
  client.subscribe('/queue/fuzz-after', got.onMessage)
  await sendWithReceipt(client, '/queue/fuzz-after', 'alive')
  assert.equal((await got.next(1))[0]!.body, 'alive')
})
