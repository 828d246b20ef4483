// MQTT on a real full disk (a small tmpfs, disk alarm off so the writes themselves fail), through mqtt.js:
// a QoS 1 publish that could not be stored gets no positive PUBACK (MQTT 5: PUBACK 0x89 server busy, which
// mqtt.js reports as an error; MQTT 3.1.1 has no negative PUBACK: the connection closes), a persistent
// subscriber goes on draining, ending a persistent session with a clean start frees its space, publishing
// works again without a restart, and every PUBACKed message is there after a SIGKILL and restart.
// Needs root (mount).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { startFullDiskWharf } from '../../fixtures/full-disk-wharf.ts'
import { sleep } from './helpers.ts'

const PAYLOAD = 8 * 1024

async function open(port: number, options: IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync({
    host: '127.0.0.1',
    port,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...options,
  })
  client.on('error', () => {})
  return client
}

/** A QoS 1 publish: true if PUBACKed with success, false if refused or the connection closed first. */
function publish(client: MqttClient, topic: string, id: string): Promise<boolean> {
  return new Promise((resolve) => {
    const closed = () => resolve(false)
    client.once('close', closed)
    const payload = Buffer.concat([Buffer.from(`${id}|`), Buffer.alloc(PAYLOAD)])
    client.publish(topic, payload, { qos: 1 }, (error) => {
      client.off('close', closed)
      resolve(!error)
    })
  })
}

/** A persistent session subscribed to `filter` at QoS 1, left offline: what its queue holds is what was stored. */
async function offlineSubscriber(port: number, clientId: string, filter: string): Promise<void> {
  const client = await open(port, {
    clientId,
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 3600 },
  })
  await client.subscribeAsync(filter, { qos: 1 })
  await client.endAsync()
}

/** Reconnects a persistent session and collects what it is sent until quiet; the ids (from the payloads). */
async function drain(port: number, clientId: string): Promise<string[]> {
  // Listening before CONNACK: the first messages may arrive in the same read.
  const client = mqtt.connect({
    host: '127.0.0.1',
    port,
    clientId,
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 3600 },
    reconnectPeriod: 0,
  })
  const ids: string[] = []
  client.on('message', (_topic, payload) => ids.push(payload.subarray(0, payload.indexOf('|')).toString()))
  await new Promise((resolve, reject) => {
    client.once('connect', resolve)
    client.once('error', reject)
  })
  for (let seen = -1; seen !== ids.length; ) {
    seen = ids.length
    await sleep(700)
  }
  await client.endAsync()
  return ids
}

test('mqtt.js QoS 1 on a full disk: refused without PUBACK, draining, recovery after a session ends, nothing PUBACKed lost', {
  timeout: 120_000,
}, async (t) => {
  const w = await startFullDiskWharf(t, {
    size: '12m',
    portFlag: '--mqtt-port',
    args: ['--disk-free-limit-bytes', '0'],
  })
  if (w === undefined) return
  await offlineSubscriber(w.port, 'keeper', 'work/#')
  await offlineSubscriber(w.port, 'ballast', 'ballast/#')
  await sleep(300) // the broker has seen both go offline: nothing is delivered to a closing connection

  // Fill with an MQTT 5 publisher, alternating topics in rounds of 32, until a PUBACK reports a failure.
  const publisher = await open(w.port, { clientId: 'pub5', protocolVersion: 5 })
  const acked = new Set<string>()
  let refused = 0
  for (let round = 0; refused === 0 && round < 2000; round++) {
    const results = await Promise.all(
      Array.from({ length: 32 }, (_, i) => {
        const kind = i % 2 === 0 ? 'work' : 'ballast'
        const id = `${kind}-${round}-${i}`
        return publish(publisher, `${kind}/x`, id).then((ok) => ({ id, ok }))
      }),
    )
    for (const r of results) {
      if (r.ok) acked.add(r.id)
      else refused++
    }
  }
  assert.ok(refused > 0, 'a PUBACK reported the failure')
  assert.ok(publisher.connected, 'MQTT 5: the refusal is a PUBACK reason code, the connection stays')
  assert.ok(w.free() < 64 * 1024, `the disk is full (${w.free()} bytes free)`)
  await publisher.endAsync()

  // MQTT 3.1.1 has no negative PUBACK: a publish that cannot be stored closes the connection, unacknowledged.
  const v4 = await open(w.port, { clientId: 'pub4', protocolVersion: 4 })
  let v4Refused = false
  for (let i = 0; i < 400 && !v4Refused; i++) {
    const id = `work-v4-${i}`
    if (await publish(v4, 'work/x', id)) acked.add(id)
    else v4Refused = true
  }
  assert.ok(v4Refused, 'MQTT 3.1.1: the connection closed without a PUBACK')
  v4.end(true)

  // Reads keep working: the persistent subscriber drains what was PUBACKed to it.
  const drained = await drain(w.port, 'keeper')
  const ackedWork = [...acked].filter((id) => id.startsWith('work-'))
  for (const id of ackedWork) assert.ok(drained.includes(id), `PUBACKed ${id} was delivered`)

  // A clean start ends the ballast session and deletes its queue; publishing recovers without a restart.
  const freeFull = w.free()
  await (await open(w.port, { clientId: 'ballast', clean: true, protocolVersion: 5 })).endAsync()
  assert.ok(w.free() > freeFull + 2 * 1024 * 1024, `space came back (${freeFull} → ${w.free()} bytes free)`)
  const again = await open(w.port, { clientId: 'pub5', protocolVersion: 5 })
  const after: string[] = []
  for (let i = 0; i < 20; i++) {
    const id = `work-after-${i}`
    assert.equal(await publish(again, 'work/x', id), true, `${id} PUBACKed after space came back`)
    after.push(id)
  }
  await again.endAsync()

  // Every PUBACKed message survives a SIGKILL.
  await w.restart()
  const restarted = await drain(w.port, 'keeper')
  for (const id of after) assert.ok(restarted.includes(id), `${id} survived the restart`)
  for (const id of ackedWork) assert.ok(drained.includes(id) || restarted.includes(id))
})
