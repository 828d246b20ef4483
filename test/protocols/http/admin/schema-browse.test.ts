// Browse decodes Confluent-framed Avro (issue 9): a schema registered over the registry's HTTP API, a
// record framed and produced by the real @kafkajs/confluent-schema-registry client, and the browse and
// peek endpoints answering the decoded JSON next to the untouched bytes.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { startHarness } from '../helpers.ts'

// biome-ignore lint/suspicious/noExplicitAny: test assertions walk untyped JSON replies
type Json = Record<string, any>

const ORDER = {
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'order', type: 'int' },
    { name: 'customer', type: 'string' },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'digest', type: 'bytes' },
  ],
}

test('stream browse and queue peek add valueDecoded/keyDecoded for registered Confluent-framed Avro', async (t) => {
  const { broker, url } = await startHarness(t)
  const registry = new SchemaRegistry({ host: url })
  const { id } = await registry.register(
    { type: 'AVRO' as never, schema: JSON.stringify(ORDER) },
    { subject: 'orders-value' },
  )
  const keyId = (await broker.schemas.register('orders-key', { schema: '"string"', schemaType: 'AVRO' })).id
  const order = { order: 7, customer: 'ada', note: null, digest: Buffer.from([1, 2, 255]) }
  const framed = await registry.encode(id, order)
  assert.equal(framed[0], 0)
  assert.equal(framed.readInt32BE(1), id)

  await broker.createStream('orders', { partitions: 1 })
  await broker.createQueue('order-q', {})
  // Framed Avro key + value; a framed value whose payload is garbage; an unregistered id; plain text.
  const broken = Buffer.concat([framed.subarray(0, 5), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])])
  const unknownId = Buffer.from([0, 0, 0, 0x7f, 0x7f, 1, 2])
  const messages = [
    { key: broker.schemas.encode(keyId, 'customer-ada'), value: framed, headers: [] },
    { key: null, value: broken, headers: [] },
    { key: null, value: unknownId, headers: [] },
    { key: null, value: Buffer.from('plain text'), headers: [] },
  ]
  await broker.produce('orders', messages)
  await broker.sendToQueue('order-q', messages)

  const browse = (await (await fetch(`${url}/api/v1/streams/orders/messages?encoding=base64`)).json()) as Json
  const peek = (await (await fetch(`${url}/api/v1/queues/order-q/messages?encoding=base64`)).json()) as Json
  for (const page of [browse.messages, peek.messages] as Json[][]) {
    assert.equal(page.length, 4)
    const [good, bad, unknown, plain] = page as [Json, Json, Json, Json]
    // The raw value stays exactly what was stored.
    assert.equal(good.value, framed.toString('base64'))
    assert.deepEqual(good.valueDecoded, {
      schemaId: id,
      subject: 'orders-value',
      type: 'AVRO',
      json: { order: 7, customer: 'ada', note: null, digest: Buffer.from([1, 2, 255]).toString('base64') },
    })
    assert.deepEqual(good.keyDecoded, { schemaId: keyId, subject: 'orders-key', type: 'AVRO', json: 'customer-ada' })
    assert.equal(bad.valueDecoded.schemaId, id)
    assert.equal(bad.valueDecoded.json, undefined)
    assert.match(bad.valueDecoded.error, /Avro payload/)
    assert.equal(unknown.valueDecoded, undefined)
    assert.equal(plain.valueDecoded, undefined)
    assert.equal(plain.keyDecoded, undefined)
  }
  // The decoded form round-trips through the real client's own decoder.
  assert.deepEqual({ ...(await registry.decode(framed)) }, order)
})
