// Connections in the admin API with real mqtt.js clients: GET /api/v1/connections shows the client id,
// protocol level, clean session, subscription count and user; DELETE closes one — an MQTT 5 client gets
// DISCONNECT 0x98 (Administrative action) first, a 3.1.1 client sees its socket close.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { IDisconnectPacket, MqttClient } from 'mqtt'
import { startAdminApi } from '../../fixtures/admin-api.ts'
import { connect, startWharf } from './helpers.ts'

test('mqtt connections: client id, version and subscriptions listed; closed with DISCONNECT 0x98', async (t) => {
  const w = await startWharf(t)
  const api = await startAdminApi(t, w.broker, new Map([['mqtt', w.listener]]))
  const { get, close } = api

  // The default loopback-only guest user; the other client is anonymous (allowed by default).
  const v5 = await connect(t, w, {
    clientId: 'sensor-v5',
    protocolVersion: 5,
    username: 'guest',
    password: 'guest',
    clean: true,
  })
  await v5.subscribeAsync(['plant/+/temp', 'plant/alarms'], { qos: 1 })
  const v3 = await connect(t, w, { clientId: 'sensor-v3', protocolVersion: 4, clean: false })
  await v3.subscribeAsync('plant/#', { qos: 0 })

  assert.equal((await api.connections('mqtt')).total, 2)
  const five = await api.find('sensor-v5')
  assert.equal(five.protocol, 'mqtt')
  assert.equal(five.clientName, 'sensor-v5')
  assert.equal(five.user, 'guest')
  assert.match(five.remoteAddress, /^127\.0\.0\.1:\d+$/)
  assert.deepEqual(
    {
      clientId: five.details.clientId,
      protocolVersion: five.details.protocolVersion,
      cleanSession: five.details.cleanSession,
      subscriptions: five.details.subscriptions,
    },
    { clientId: 'sensor-v5', protocolVersion: '5.0', cleanSession: true, subscriptions: 2 },
  )
  const three = await api.find('sensor-v3')
  assert.equal(three.user, 'ANONYMOUS')
  assert.deepEqual(
    {
      protocolVersion: three.details.protocolVersion,
      cleanSession: three.details.cleanSession,
      persistent: three.details.persistentSession,
      subscriptions: three.details.subscriptions,
    },
    { protocolVersion: '3.1.1', cleanSession: false, persistent: true, subscriptions: 1 },
  )
  assert.equal((await api.connections('kafka')).total, 0)
  assert.equal((await get('/connections?limit=1&offset=1')).items.length, 1)

  // MQTT 5: the client receives DISCONNECT with reason 0x98 before the connection closes.
  const disconnect = new Promise<IDisconnectPacket>((resolve) => v5.once('disconnect', resolve))
  const v5closed = new Promise<void>((resolve) => v5.once('close', () => resolve()))
  const response = await close(five.id)
  assert.equal(response.status, 200)
  assert.deepEqual(await response.json(), { closed: five.id })
  assert.equal((await disconnect).reasonCode, 0x98)
  await v5closed

  // MQTT 3.1.1 has no server DISCONNECT: the client just sees the connection close.
  const v3closed = new Promise<void>((resolve) => v3.once('close', () => resolve()))
  assert.equal((await close(three.id)).status, 200)
  await v3closed
  assert.equal((await api.connections('mqtt')).total, 0)
  assert.equal((await close(three.id)).status, 404)
  // The persistent 3.1.1 session outlives its connection (an admin close is not a session delete).
  assert.ok(w.listener.hub.sessions.has('sensor-v3'))
  const again: MqttClient = await connect(t, w, { clientId: 'sensor-v3', protocolVersion: 4, clean: false })
  assert.equal(await api.gauge('mqtt'), 1)
  assert.ok(again.connected)
})
