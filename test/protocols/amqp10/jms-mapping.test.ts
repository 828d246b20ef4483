// `wharf start` with AMQP and STOMP: an AMQP 1.0 message's properties, typed application-properties and
// x-opt-jms-reply-to reach a STOMP consumer as headers, and a STOMP message's reach an AMQP 1.0 consumer as
// properties and annotations (docs/properties.md, AMQP 1.0). rhea and @stomp/stompjs over TCP.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { IMessage } from '@stomp/stompjs'
import rhea from 'rhea'
import { startSpawned } from '../../fixtures/spawned-wharf.ts'
import { sendWithReceipt, stompjs } from '../stomp/helpers.ts'
import { gather, once, sendAll } from './rhea-helpers.ts'

test('AMQP 1.0 → STOMP and STOMP → AMQP 1.0: JMS headers, properties and a topic reply-to', async (t) => {
  const { ports } = await startSpawned(t, ['amqp', 'stomp'])
  // A first start with no users allows anonymous access from loopback.
  const amqp = rhea.create_container().connect({ host: '127.0.0.1', port: ports.amqp, reconnect: false })
  t.after(() => amqp.is_open() && amqp.close())
  await once(amqp, 'connection_open')
  const stomp = await stompjs(t, { port: ports.stomp })

  const toStomp = new Promise<IMessage>((resolve) => stomp.subscribe('/queue/xp.to-stomp', resolve))
  await new Promise((r) => setTimeout(r, 200))
  await sendAll(amqp, 'xp.to-stomp', [
    {
      body: 'hi',
      reply_to: 'answers',
      correlation_id: 'c-9',
      subject: 'Greeting',
      group_id: 'g-1',
      group_sequence: 4,
      message_annotations: { 'x-opt-jms-reply-to': rhea.types.wrap_byte(1) },
      application_properties: { n: rhea.types.wrap_int(5), s: 'x', ok: true },
    },
  ])
  const frame = await toStomp
  assert.equal(frame.body, 'hi')
  assert.equal(frame.headers['reply-to'], '/topic/answers', 'x-opt-jms-reply-to 1: a topic, in STOMP form')
  assert.equal(frame.headers['correlation-id'], 'c-9')
  assert.equal(frame.headers.type, 'Greeting')
  assert.equal(frame.headers.JMSXGroupID, 'g-1')
  assert.equal(frame.headers.JMSXGroupSeq, '4')
  assert.equal(frame.headers.n, '5')
  assert.equal(frame.headers.s, 'x')
  assert.equal(frame.headers.ok, 'true')

  const fromStomp = gather(amqp.open_receiver('xp.from-stomp'))
  await sendWithReceipt(stomp, '/queue/xp.from-stomp', 'hello', {
    'reply-to': '/topic/back',
    'correlation-id': 'c-2',
    type: 'Answer',
    region: 'eu',
  })
  const [m] = await fromStomp.next(1)
  assert.equal(m!.reply_to, 'topic://back')
  assert.equal(m!.message_annotations?.['x-opt-jms-reply-to'], 1)
  assert.equal(m!.correlation_id, 'c-2')
  assert.equal(m!.subject, 'Answer')
  assert.equal(m!.application_properties?.region, 'eu')
})
