// Message sections through Wharf: what an AMQP 1.0 producer sends, an AMQP 1.0 consumer gets back (the header
// is rebuilt per delivery, delivery-annotations are per hop); the x-opt-jms-* and delivery-delay annotations.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import rhea from 'rhea'
import type { StoredMessage } from '../../../src/broker/message.ts'
import { Decoder } from '../../../src/protocols/amqp10/codec/decoder.ts'
import { encodeDelivery, toPublishMessage } from '../../../src/protocols/amqp10/message.ts'
import { connect, startWharf } from './helpers.ts'
import { gather, once, sendAll } from './rhea-helpers.ts'

const { types, message: codec } = rhea

/** A message with every section and every properties field. */
function everything(): rhea.Message {
  return {
    durable: true,
    priority: 7,
    ttl: 600_000,
    delivery_annotations: { 'x-opt-hop': 'only-this-one' },
    message_annotations: {
      'x-opt-jms-msg-type': types.wrap_byte(5),
      'x-opt-jms-dest': types.wrap_byte(0),
      'x-opt-jms-reply-to': types.wrap_byte(1),
      'x-opt-custom': types.wrap_list([1, 'two']),
    },
    message_id: 'm-1',
    user_id: Buffer.from('alice'),
    to: 'sections',
    subject: 'kind',
    reply_to: 'answers',
    correlation_id: types.wrap_ulong(42),
    content_type: 'text/plain',
    content_encoding: 'utf-8',
    absolute_expiry_time: new Date(Date.now() + 3_600_000),
    creation_time: new Date(1_700_000_000_000),
    group_id: 'g',
    group_sequence: 3,
    reply_to_group_id: 'rg',
    application_properties: {
      s: 'text',
      b: true,
      i: types.wrap_int(-5),
      l: types.wrap_long(2 ** 40),
      ub: types.wrap_ubyte(200),
      d: types.wrap_double(0.25),
      bin: Buffer.from([1, 2, 3]),
    },
    body: 'hello',
    footer: { 'x-opt-checksum': 'abc' },
  } as unknown as rhea.Message
}

/** What rhea itself decodes from its own encoding of `m`: the expectation, section by section. */
function decodedBy(m: rhea.Message): rhea.Message {
  return codec.decode(codec.encode(m)) as unknown as rhea.Message
}

test('rhea: properties, message-annotations (x-opt-jms-*), application-properties, body and footer come back as sent', async (t) => {
  const wharf = await startWharf(t)
  const connection = await connect(t, wharf)
  const sent = everything()
  await sendAll(connection, 'sections', [sent])
  const receiver = connection.open_receiver('sections')
  const [got] = await gather(receiver).next(1)
  const expected = decodedBy(sent) as unknown as Record<string, unknown>
  const received = got as unknown as Record<string, unknown>
  for (const field of [
    'message_id',
    'user_id',
    'to',
    'subject',
    'reply_to',
    'correlation_id',
    'content_type',
    'content_encoding',
    'absolute_expiry_time',
    'creation_time',
    'group_id',
    'group_sequence',
    'reply_to_group_id',
    'message_annotations',
    'application_properties',
    'body',
    'footer',
  ])
    assert.deepEqual(received[field], expected[field], field)
  assert.equal(received.durable, true)
  assert.equal(received.priority, 7)
  assert.ok(typeof received.ttl === 'number' && received.ttl > 0 && received.ttl <= 600_000, `ttl ${received.ttl}`)
  assert.equal(received.delivery_annotations, undefined, 'delivery-annotations are for this hop only')
})

test('rhea: every body kind comes back as sent (data, several data sections, amqp-value of any type, amqp-sequence)', async (t) => {
  const wharf = await startWharf(t)
  const connection = await connect(t, wharf)
  const bodies = [
    codec.data_section(Buffer.from([0, 1, 2, 255])),
    codec.data_sections([Buffer.from('part-1'), Buffer.from('part-2')]),
    { map: 1, nested: ['x', true] },
    types.wrap_long(12345),
    null,
    codec.sequence_section([1, 'a', false]),
    codec.sequence_sections([[1], ['b']]),
    'plain text',
  ]
  await sendAll(
    connection,
    'bodies',
    bodies.map((body) => ({ body }) as rhea.Message),
  )
  const got = await gather(connection.open_receiver('bodies')).next(bodies.length)
  got.forEach((m, i) => {
    assert.deepEqual(m.body, decodedBy({ body: bodies[i] } as rhea.Message).body, `body ${i}`)
  })
})

test('the bare message and footer are stored as their encoded bytes: a delivery repeats them byte for byte', () => {
  const sent = codec.encode(everything()) as Buffer
  const message = toPublishMessage(sent, Date.now())
  const stored = { ...message, headers: message.headers ?? [], value: message.value ?? null } as StoredMessage
  const delivered = encodeDelivery(stored, 1)
  const sections = (bytes: Buffer) => {
    const d = new Decoder(bytes)
    const out: Buffer[] = []
    while (d.remaining > 0) {
      const start = d.pos
      d.value()
      out.push(bytes.subarray(start, d.pos))
    }
    return out
  }
  const want = sections(sent)
  const have = sections(delivered)
  // Sent: header, delivery-annotations, message-annotations, properties, application-properties, then rhea
  // writes the footer before the body (the spec puts it last; Wharf reads either order). Delivered: a fresh
  // header, then the rest byte for byte in the spec's order, without the per-hop delivery-annotations.
  assert.equal(want.length, 7)
  const [footer, body] = [want[5]!, want[6]!]
  assert.equal(footer[2], 0x78, 'rhea wrote the footer sixth')
  assert.deepEqual(have.slice(1), [...want.slice(2, 5), body, footer])
})

test('rhea: x-opt-delivery-delay and x-opt-delivery-time hold a message back until it is due', async (t) => {
  const wharf = await startWharf(t)
  const connection = await connect(t, wharf)
  const started = Date.now()
  await sendAll(connection, 'later', [
    { body: 'by-delay', message_annotations: { 'x-opt-delivery-delay': types.wrap_long(1500) } },
    {
      body: 'by-time',
      message_annotations: { 'x-opt-delivery-time': types.wrap_timestamp(started + 1500) },
    } as unknown as rhea.Message,
    { body: 'now' },
  ])
  const got = gather(connection.open_receiver('later'))
  await got.next(1)
  assert.deepEqual(got.bodies(), ['now'], 'the delayed ones are not due yet')
  await got.next(3)
  assert.ok(Date.now() - started >= 1400, 'delivered once due')
  assert.deepEqual(got.bodies().slice(1).sort(), ['by-delay', 'by-time'])
})

test('rhea: the attach reply of a browsing receiver says distribution-mode copy', async (t) => {
  const wharf = await startWharf(t)
  const connection = await connect(t, wharf)
  const receiver = connection.open_receiver({
    source: { address: 'copy.q', distribution_mode: 'copy' } as unknown as rhea.Source,
  })
  const opened = await once(receiver, 'receiver_open')
  const source = (opened.receiver as unknown as { remote: { attach: { source: { distribution_mode?: string } } } })
    .remote.attach.source
  assert.equal(source.distribution_mode, 'copy')
})
