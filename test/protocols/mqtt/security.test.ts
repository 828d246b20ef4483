// MQTT authentication and authorization with mqtt.js over TCP: the CONNACK codes of a refused login (3.1.1
// and 5, as Mosquitto answers), SUBACK 0x80 / 0x87 and PUBACK / PUBREC 0x87 for ACL denials, a denied 3.1.1
// publish acknowledged and dropped, every delivery (live and retained) a Read of its topic, wills checked as
// the client's publish, and the config contract's example rule on test/nosubscribe.
import assert from 'node:assert/strict'
import { createServer as createHttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import type { MqttClient } from 'mqtt'
import { collect } from './helpers.ts'
import { connectTo, publishCode, refusalCode, startSecureWharf, subackCodes } from './security-helpers.ts'

const deny = (principal: string, operation: string, resourceName: string) => ({
  principal,
  host: '*',
  operation,
  permission: 'Deny',
  resourceType: 'MqttTopic',
  resourceName,
  patternType: 'Literal',
})

for (const protocolVersion of [4, 5] as const) {
  const v5 = protocolVersion === 5
  test(`v${protocolVersion}: logins — right password in, wrong password and anonymous refused with Mosquitto's codes`, async (t) => {
    const w = await startSecureWharf(t, { anonymous: false })
    const url = `mqtt://127.0.0.1:${w.port}`
    // Anonymous off, no user name: not authorized (3.1.1 0x05, 5 0x87).
    assert.equal(await refusalCode(t, url, { protocolVersion }), v5 ? 0x87 : 0x05)
    // A wrong password, or a user that does not exist: 3.1.1 0x05 as Mosquitto, 5 0x86 Bad User Name or Password.
    assert.equal(await refusalCode(t, url, { protocolVersion, username: 'bob', password: 'wrong' }), v5 ? 0x86 : 0x05)
    assert.equal(
      await refusalCode(t, url, { protocolVersion, username: 'mallory', password: 'bob-pw' }),
      v5 ? 0x86 : 0x05,
    )
    assert.equal(await refusalCode(t, url, { protocolVersion, username: 'bob' }), v5 ? 0x86 : 0x05)

    const bob = await connectTo(t, url, { protocolVersion, username: 'bob', password: 'bob-pw', clientId: 'bob-1' })
    const inbox = collect(bob)
    await bob.subscribeAsync('greetings/#', { qos: 1 })
    await bob.publishAsync('greetings/hi', 'hello', { qos: 1 })
    assert.equal((await inbox.next(1))[0]?.payload.toString(), 'hello')
    const [info] = w.listener.connections.list()
    assert.equal(info?.user, 'bob')
    assert.equal(info?.tls, false)
    assert.equal(w.listener.connections.size, 1, 'refused connections are closed')
  })

  test(`v${protocolVersion}: anonymous allowed by the policy connects as ANONYMOUS`, async (t) => {
    const w = await startSecureWharf(t, { anonymous: true })
    const client = await connectTo(t, `mqtt://127.0.0.1:${w.port}`, { protocolVersion })
    await client.publishAsync('anyone/here', 'yes', { qos: 1 })
    assert.equal(w.listener.connections.list()[0]?.user, 'ANONYMOUS')
  })

  test(`v${protocolVersion}: ACL denials — SUBACK ${v5 ? '0x87' : '0x80'}, ${v5 ? 'PUBACK/PUBREC 0x87' : 'denied publishes acknowledged and dropped'}`, async (t) => {
    const w = await startSecureWharf(t, {
      anonymous: false,
      acls: [deny('User:bob', 'Read', 'secret/#'), deny('User:bob', 'Write', 'sensors/locked')],
    })
    const url = `mqtt://127.0.0.1:${w.port}`
    const bob = await connectTo(t, url, { protocolVersion, username: 'bob', password: 'bob-pw' })
    assert.deepEqual(await subackCodes(bob, ['secret/#', 'secret/plans', 'open/#']), [
      v5 ? 0x87 : 0x80,
      v5 ? 0x87 : 0x80,
      1,
    ])
    // alice is an administrator: the rules naming bob do not touch her.
    const alice = await connectTo(t, url, { protocolVersion, username: 'alice', password: 'alice-pw' })
    assert.deepEqual(await subackCodes(alice, ['secret/#', 'sensors/#']), [1, 1])
    const aliceInbox = collect(alice)

    assert.equal(await publishCode(bob, 'sensors/locked', 'q1', 1), v5 ? 0x87 : 0)
    assert.equal(await publishCode(bob, 'sensors/locked', 'q2', 2), v5 ? 0x87 : 0)
    await bob.publishAsync('sensors/locked', 'q0', { qos: 0 })
    assert.equal(await publishCode(bob, 'sensors/open', 'allowed', 1), 0)
    assert.equal(await publishCode(alice, 'sensors/locked', 'by alice', 1), 0)
    const received = (await aliceInbox.next(2)).map((m) => `${m.topic}=${m.payload}`)
    assert.deepEqual(received, ['sensors/open=allowed', 'sensors/locked=by alice'], 'none of bob’s denied publishes')
  })

  test(`v${protocolVersion}: the config contract's rule — User:* may not subscribe to test/nosubscribe, publishing still works`, async (t) => {
    const w = await startSecureWharf(t, { acls: [deny('User:*', 'Read', 'test/nosubscribe')] })
    const url = `mqtt://127.0.0.1:${w.port}`
    const anonymous = await connectTo(t, url, { protocolVersion })
    assert.deepEqual(await subackCodes(anonymous, ['test/nosubscribe']), [v5 ? 0x87 : 0x80])
    const bob = await connectTo(t, url, { protocolVersion, username: 'bob', password: 'bob-pw' })
    assert.deepEqual(await subackCodes(bob, ['test/nosubscribe']), [v5 ? 0x87 : 0x80], 'User:* covers bob')

    // A wildcard subscription is allowed, but every delivery is a read: test/nosubscribe never reaches it.
    const wildcard = await connectTo(t, url, { protocolVersion })
    assert.deepEqual(await subackCodes(wildcard, ['test/#']), [1])
    const wildcardInbox = collect(wildcard)
    const alice = await connectTo(t, url, { protocolVersion, username: 'alice', password: 'alice-pw' })
    assert.deepEqual(await subackCodes(alice, ['test/nosubscribe']), [1])
    const aliceInbox = collect(alice)

    assert.equal(await publishCode(anonymous, 'test/nosubscribe', 'published', 1), 0)
    assert.equal((await aliceInbox.next(1))[0]?.payload.toString(), 'published', 'the publish was accepted and routed')
    await anonymous.publishAsync('test/other', 'after', { qos: 1 })
    assert.deepEqual(
      (await wildcardInbox.next(1)).map((m) => m.topic),
      ['test/other'],
      'the wildcard subscriber got the later message and not the denied one',
    )
  })

  test(`v${protocolVersion}: retained messages are delivered only on topics the subscriber may read`, async (t) => {
    const w = await startSecureWharf(t, { acls: [deny('User:bob', 'Read', 'state/private')] })
    const url = `mqtt://127.0.0.1:${w.port}`
    const publisher = await connectTo(t, url, { protocolVersion })
    await publisher.publishAsync('state/private', 'hidden', { qos: 1, retain: true })
    await publisher.publishAsync('state/public', 'shown', { qos: 1, retain: true })
    const bob = await connectTo(t, url, { protocolVersion, username: 'bob', password: 'bob-pw' })
    const bobInbox = collect(bob)
    assert.deepEqual(await subackCodes(bob, ['state/+']), [1])
    const other = await connectTo(t, url, { protocolVersion })
    const otherInbox = collect(other)
    assert.deepEqual(await subackCodes(other, ['state/+']), [1])
    const all = (await otherInbox.next(2)).map((m) => m.topic).sort()
    assert.deepEqual(all, ['state/private', 'state/public'], 'without a rule both retained messages arrive')
    // Retained messages are sent with the SUBACK, before the next message.
    await publisher.publishAsync('state/public', 'live', { qos: 1 })
    const seen = (await bobInbox.next(2)).map((m) => `${m.topic}=${m.payload}`)
    assert.deepEqual(seen, ['state/public=shown', 'state/public=live'])
  })

  test(`v${protocolVersion}: a will on a topic the client may not write is dropped, an allowed one published`, async (t) => {
    const w = await startSecureWharf(t, { acls: [deny('User:bob', 'Write', 'wills/bob')] })
    const url = `mqtt://127.0.0.1:${w.port}`
    const alice = await connectTo(t, url, { protocolVersion, username: 'alice', password: 'alice-pw' })
    const inbox = collect(alice)
    await alice.subscribeAsync('wills/#', { qos: 1 })
    const withWill = (topic: string) =>
      connectTo(t, url, {
        protocolVersion,
        username: 'bob',
        password: 'bob-pw',
        will: { topic, payload: Buffer.from(`gone from ${topic}`), qos: 1, retain: false },
      })
    const kill = async (client: MqttClient) => {
      const before = w.listener.connectionCount
      client.stream.destroy()
      while (w.listener.connectionCount >= before) await new Promise((resolve) => setImmediate(resolve))
    }
    await kill(await withWill('wills/bob'))
    await kill(await withWill('wills/ok'))
    assert.deepEqual(
      (await inbox.next(1)).map((m) => m.topic),
      ['wills/ok'],
      'the will bob may not write was not published before the allowed one',
    )
  })
}

test('mqtt.js over ws:// from a page of another origin: a password login works, anonymous access does not', async (t) => {
  const http = createHttpServer()
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    http.closeAllConnections()
    http.close()
  })
  const w = await startSecureWharf(t, { anonymous: true, httpServer: http })
  const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/mqtt`
  // What a browser sends on a cross-site WebSocket: its page's origin, and Sec-Fetch-Site where supported.
  const fromOtherSite = { wsOptions: { headers: { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' } } }

  const local = await connectTo(t, url, { protocolVersion: 4, clientId: 'ws-local' })
  assert.deepEqual(await subackCodes(local, ['ws/#']), [1], 'no Origin (a native client): anonymous as configured')
  assert.equal(await refusalCode(t, url, { protocolVersion: 4, ...fromOtherSite }), 0x05)
  assert.equal(await refusalCode(t, url, { protocolVersion: 5, ...fromOtherSite }), 0x87)
  const samePage = { wsOptions: { headers: { Origin: url.replace('ws:', 'http:').replace('/mqtt', '') } } }
  const sameOrigin = await connectTo(t, url, { protocolVersion: 4, clientId: 'ws-same', ...samePage })
  assert.deepEqual(await subackCodes(sameOrigin, ['ws/#']), [1], 'the page the broker serves is not another origin')
  const bob = await connectTo(t, url, {
    protocolVersion: 4,
    clientId: 'ws-bob',
    username: 'bob',
    password: 'bob-pw',
    ...fromOtherSite,
  })
  assert.deepEqual(await subackCodes(bob, ['ws/#']), [1], 'credentials the page supplied count')
  assert.equal(w.listener.connections.list().find((c) => c.clientId === 'ws-bob')?.user, 'bob')
})
