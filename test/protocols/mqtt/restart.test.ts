// Persistent sessions, queued messages and retained messages survive a Wharf restart (SIGTERM) and a
// SIGKILL, with `wharf start` as a child process and mqtt.js as the client.
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import mqtt from 'mqtt'
import { freePort, spawnWharf } from '../../fixtures/wharf-process.ts'
import { collect, connect, rawClient } from './helpers.ts'

/** `wharf start` with MQTT on port, killed when the test ends; resolves once ready. */
async function startCli(t: TestContext, dataDir: string, port: number): Promise<ChildProcess> {
  const wharf = spawnWharf(['--data-dir', dataDir, '--mqtt-port', String(port)])
  t.after(() => wharf.proc.kill('SIGKILL'))
  await wharf.ready
  return wharf.proc
}

function stop(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    proc.once('exit', () => resolve())
    proc.kill(signal)
  })
}

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  for (const protocolVersion of [4, 5] as const) {
    test(`v${protocolVersion}: session, offline messages and retained survive ${signal}`, {
      timeout: 60_000,
    }, async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'wharf-mqtt-restart-'))
      t.after(() => rmSync(dir, { recursive: true, force: true }))
      const port = await freePort()
      const w = { port }
      const persistent = {
        protocolVersion,
        clientId: 'survivor',
        clean: false,
        ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
      }
      let proc = await startCli(t, dir, port)
      const first = await connect(t, w, persistent)
      await first.subscribeAsync({ 'keep/#': { qos: 2 } })
      await first.endAsync()
      const pub = await connect(t, w, { protocolVersion })
      await pub.publishAsync('keep/1', 'one', { qos: 1 })
      await pub.publishAsync('keep/2', 'two', { qos: 2 })
      await pub.publishAsync('state/x', 'retained', { qos: 1, retain: true })
      pub.end(true)
      await stop(proc, signal)
      proc = await startCli(t, dir, port)
      const again = mqtt.connect({ host: '127.0.0.1', port, reconnectPeriod: 0, ...persistent })
      t.after(() => again.end(true))
      const inbox = collect(again)
      const connack = await new Promise<mqtt.IConnackPacket>((resolve) => again.once('connect', resolve))
      assert.equal(connack.sessionPresent, true)
      const got = await inbox.next(2)
      assert.deepEqual(got.map((m) => `${m.topic}=${m.payload}`).sort(), ['keep/1=one', 'keep/2=two'])
      const late = await connect(t, w, { protocolVersion })
      const lateInbox = collect(late)
      await late.subscribeAsync('state/#')
      assert.equal((await lateInbox.next(1))[0]?.payload.toString(), 'retained')
      // The subscription itself survived: a new publish reaches the session.
      await late.publishAsync('keep/3', 'three', { qos: 1 })
      assert.equal((await inbox.next(3))[2]?.payload.toString(), 'three')
      again.end(true)
      late.end(true)
      await stop(proc, 'SIGTERM')
    })
  }
}

test('QoS 2: an unacknowledged delivery is resent after SIGKILL with the same packet id (exactly once)', {
  timeout: 60_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-mqtt-restart-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const port = await freePort()
  let proc = await startCli(t, dir, port)
  const hello = { cmd: 'connect', clientId: 'q2', protocolVersion: 4, clean: false, keepalive: 0 } as const
  const first = await rawClient(t, port, 4)
  first.send(hello)
  await first.next('connack')
  first.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'x/#', qos: 2 }] })
  await first.next('suback')
  const pub = await connect(t, { port }, { protocolVersion: 4 })
  await pub.publishAsync('x/1', 'once', { qos: 2 })
  const sent = (await first.next('publish')) as mqtt.IPublishPacket
  assert.equal(sent.qos, 2)
  pub.end(true)
  // No PUBREC: the client may already have handed the message to its application, keyed by packet id.
  await stop(proc, 'SIGKILL')
  first.socket.destroy()
  proc = await startCli(t, dir, port)
  const again = await rawClient(t, port, 4)
  again.send(hello)
  const connack = (await again.next('connack')) as mqtt.IConnackPacket
  assert.equal(connack.sessionPresent, true)
  const resent = (await again.next('publish')) as mqtt.IPublishPacket
  assert.equal(String(resent.payload), 'once')
  assert.equal(resent.dup, true)
  assert.equal(resent.messageId, sent.messageId, 'same packet id, so the client recognises the duplicate')
  await stop(proc, 'SIGTERM')
})
