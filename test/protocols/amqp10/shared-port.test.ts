// The connection bounds of the AMQP port that AMQP 0-9-1 and AMQP 1.0 share, with amqplib and rhea: every
// connection of the port counts against one connectionsMax, whichever protocol it speaks (as RabbitMQ counts
// them), while the admin API and /metrics report each protocol's connections under its own name.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import amqplib from 'amqplib'
import rhea, { type Connection } from 'rhea'
import { createBroker } from '../../../src/index.ts'
import { startAmqpListener } from '../../../src/protocols/amqp/index.ts'
import { startSharedAmqp10Listener } from '../../../src/protocols/amqp10/index.ts'
import type { Listener } from '../../../src/protocols/common/listener.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { startAdminApi } from '../../fixtures/admin-api.ts'

/** A rhea connection: open, or refused (the socket dropped before the open). */
function rheaConnect(port: number): Promise<Connection | 'refused'> {
  const connection = rhea.create_container().connect({ host: '127.0.0.1', port, reconnect: false })
  return new Promise((resolve) => {
    connection.once('connection_open', () => resolve(connection))
    connection.once('disconnected', () => resolve('refused'))
  })
}

test('amqp port: AMQP 1.0 and 0-9-1 connections count against one connectionsMax, reported per protocol', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-amqp-shared-'))
  const broker = await createBroker({ dataDir: dir, durability: 'never' })
  const started = new Map<string, Listener>()
  const base = { broker, host: '127.0.0.1', logger: silentLogger, started }
  const amqp = await startAmqpListener({ ...base, port: 0, connectionsMax: 3 })
  started.set('amqp', amqp)
  // The server gives both the same context; the 1.0 listener's sockets arrive through the 0-9-1 one.
  const amqp10 = await startSharedAmqp10Listener({ ...base, port: amqp.port, connectionsMax: 3 })
  started.set('amqp10', amqp10)

  const open: Array<{ close(): unknown }> = []
  t.after(async () => {
    for (const c of open) await Promise.resolve(c.close()).catch(() => {})
    await amqp10.close()
    await amqp.close()
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const api = await startAdminApi(t, broker, started)
  open.push(await amqplib.connect(`amqp://guest:guest@127.0.0.1:${amqp.port}`))
  for (let i = 0; i < 2; i++) {
    const c = await rheaConnect(amqp.port)
    assert.notEqual(c, 'refused', `AMQP 1.0 connection ${i + 1} of 3 is admitted`)
    open.push(c as Connection)
  }
  // The port holds three: a fourth is dropped, in either protocol.
  assert.equal(await rheaConnect(amqp.port), 'refused', 'a fourth connection (AMQP 1.0) is refused')
  await assert.rejects(amqplib.connect(`amqp://guest:guest@127.0.0.1:${amqp.port}`), 'a fourth (0-9-1) is refused')

  assert.equal((await api.connections('amqp')).total, 1)
  assert.equal((await api.connections('amqp10')).total, 2)
  const listeners = (await api.get('/listeners')).items as Array<{ name: string; connections: number | null }>
  assert.deepEqual(
    listeners.filter((l) => l.name.startsWith('amqp')).map((l) => [l.name, l.connections]),
    [
      ['amqp', 1],
      ['amqp10', 2],
    ],
  )
  assert.equal(await api.gauge('amqp'), 1)
  assert.equal(await api.gauge('amqp10'), 2)

  // A place freed by an AMQP 1.0 connection is taken by a 0-9-1 one.
  const leaving = open.pop() as Connection
  const gone = new Promise((resolve) => leaving.once('connection_close', resolve))
  leaving.close()
  await gone
  const deadline = Date.now() + 5000
  while ((await api.connections('amqp10')).total !== 1 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20))
  open.push(await amqplib.connect(`amqp://guest:guest@127.0.0.1:${amqp.port}`))
  assert.equal((await api.connections('amqp')).total, 2)
})
