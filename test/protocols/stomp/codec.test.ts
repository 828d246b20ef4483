// The STOMP frame codec on its own: EOLs, heart-beats between frames, 1.2 escaping (none in CONNECT),
// repeated headers, content-length bodies with NULs, frames split at every byte, and each limit.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeFrame } from '../../../src/protocols/stomp/wire/encode.ts'
import { defaultFrameLimits, type Frame, StompFrameError } from '../../../src/protocols/stomp/wire/frame.ts'
import { FrameParser } from '../../../src/protocols/stomp/wire/parser.ts'

function parse(bytes: string | Buffer, version: '1.0' | '1.2' = '1.2', limits = defaultFrameLimits): Frame[] {
  const parser = new FrameParser(limits)
  parser.negotiated(version)
  return parser.push(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1'))
}

test('frames with LF and CRLF, heart-beat EOLs between them, first of a repeated header wins', () => {
  const frames = parse(
    '\n\r\nSEND\r\ndestination:/queue/a\r\nk:1\r\nk:2\r\n\r\nhello\0\n\nSUBSCRIBE\nid:0\ndestination:/topic/t\n\n\0\r\n',
  )
  assert.equal(frames.length, 2)
  assert.equal(frames[0]!.command, 'SEND')
  assert.equal(frames[0]!.headers.get('k'), '1')
  assert.equal(frames[0]!.body.toString(), 'hello')
  assert.equal(frames[1]!.headers.get('destination'), '/topic/t')
})

test('1.2 escaping in headers, none in CONNECT and none in 1.0', () => {
  const [send] = parse('SEND\ndestination:/queue/a\nk\\cx:a\\nb\\rc\\\\d\\ce\n\n\0')
  assert.equal(send!.headers.get('k:x'), 'a\nb\rc\\d:e')
  const [connect] = parse('CONNECT\nlogin:a\\cb\n\n\0')
  assert.equal(connect!.headers.get('login'), 'a\\cb')
  const [old] = parse('SEND\nk:a\\nb\n\n\0', '1.0')
  assert.equal(old!.headers.get('k'), 'a\\nb')
  assert.throws(() => parse('SEND\nk:a\\tb\n\n\0'), StompFrameError)
  const encoded = encodeFrame('MESSAGE', [['k:x', 'a\nb\rc\\d:e']], '1.2')
  assert.equal(encoded.toString(), 'MESSAGE\nk\\cx:a\\nb\\rc\\\\d\\ce\n\n\0')
  assert.equal(encodeFrame('CONNECTED', [['server', 'a:b']], '1.2').toString(), 'CONNECTED\nserver:a:b\n\n\0')
})

test('content-length bodies may hold NULs; frames split at every byte parse the same', () => {
  const body = Buffer.from([1, 0, 2, 0, 3])
  const bytes = Buffer.concat([
    Buffer.from(`SEND\ndestination:/queue/b\ncontent-length:${body.length}\n\n`),
    body,
    Buffer.from('\0\nSEND\ndestination:/queue/c\n\nplain\0'),
  ])
  const whole = parse(bytes)
  assert.deepEqual(whole[0]!.body, body)
  for (let cut = 1; cut < bytes.length; cut++) {
    const parser = new FrameParser(defaultFrameLimits)
    parser.negotiated('1.2')
    const frames = [...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut))]
    assert.equal(frames.length, 2, `cut at ${cut}`)
    assert.deepEqual(frames[0]!.body, body)
    assert.equal(frames[1]!.body.toString(), 'plain')
    assert.equal(parser.bufferedBytes, 0)
  }
})

test('limits: frame, body, header line and header count; malformed lines and commands', () => {
  const limits = { frameBytesMax: 300, bodyBytesMax: 100, headerBytesMax: 40, headersMax: 3 }
  const cases: Array<[string, RegExp]> = [
    [`SEND\n\n${'x'.repeat(101)}`, /body too large/],
    ['SEND\ncontent-length:101\n\n', /body too large/],
    [`SEND\nk:${'v'.repeat(50)}\n\n\0`, /header line too long/],
    [`SEND\nk:${'v'.repeat(50)}`, /header line too long/],
    ['SEND\na:1\nb:2\nc:3\nd:4\n\n\0', /too many headers/],
    [`SEND\n${'a:1\n'.repeat(80)}`, /too many headers|frame too large/],
    ['SEND\nnocolon\n\n\0', /malformed header line/],
    ['SEND\ncontent-length:x\n\n\0', /invalid content-length/],
    ['HELLO\n\n\0', /unknown command/],
    ['SEND\ncontent-length:1\n\nab', /not terminated by NUL/],
  ]
  for (const [input, expected] of cases)
    assert.throws(
      () => parse(input, '1.2', limits),
      (e: unknown) => e instanceof StompFrameError && expected.test(e.message),
      input,
    )
})
