// A stream's UUID (Kafka's topic id): stored with the stream, the same after a restart, another for a stream
// recreated under the same name, and given on load to streams stored before streams had one.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { StreamRecord } from '../../src/broker/stream/catalog.ts'
import { newStreamUuid } from '../../src/broker/stream/stream.ts'
import { createInspectableBroker, storageOf, tempDir } from './helpers.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

test('a stream keeps its uuid across a restart; a recreated stream gets another', async (t) => {
  const dir = tempDir(t)
  let broker = await createInspectableBroker({ dataDir: dir })
  const first = await broker.createStream('orders', { partitions: 2 })
  assert.match(first.uuid, UUID)
  const other = await broker.createStream('payments')
  assert.notEqual(other.uuid, first.uuid)
  await broker.alterStream('orders', { partitions: 3 })
  await broker.close()

  broker = await createInspectableBroker({ dataDir: dir })
  assert.equal(broker.stream('orders').uuid, first.uuid, 'same uuid after alter and restart')
  assert.equal(broker.stream('payments').uuid, other.uuid)
  await broker.deleteStream('orders')
  const again = await broker.createStream('orders')
  assert.notEqual(again.uuid, first.uuid, 'a new stream under an old name is another stream')
  await broker.close()
})

test('a stream stored without a uuid gets one on load, kept from then on', async (t) => {
  const dir = tempDir(t)
  let broker = await createInspectableBroker({ dataDir: dir })
  await broker.createStream('legacy')
  const metadata = storageOf(broker).metadata
  const { uuid: _, ...old } = metadata.get<StreamRecord>('stream', 'legacy')!
  await metadata.put('stream', 'legacy', old)
  await broker.close()

  broker = await createInspectableBroker({ dataDir: dir })
  const given = broker.stream('legacy').uuid
  assert.match(given, UUID)
  assert.equal(storageOf(broker).metadata.get<StreamRecord>('stream', 'legacy')?.uuid, given, 'stored')
  await broker.close()
  broker = await createInspectableBroker({ dataDir: dir })
  assert.equal(broker.stream('legacy').uuid, given)
  await broker.close()
})

test('transient streams have a uuid too', async (t) => {
  const broker = await createInspectableBroker({ dataDir: tempDir(t) })
  t.after(() => broker.close())
  const s = await broker.createStream('scratch', { transient: true })
  assert.match(s.uuid, UUID)
})

test("no uuid's base64url text starts with '-'", () => {
  for (let i = 0; i < 2000; i++) {
    const bytes = Buffer.from(newStreamUuid().replaceAll('-', ''), 'hex')
    assert.notEqual(bytes.toString('base64url')[0], '-')
  }
})
