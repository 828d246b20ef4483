// The CONNECT deadline against a real `wharf start`: a socket that connects and sends nothing is closed
// once --mqtt-connect-timeout-ms has passed; one that sent CONNECT stays.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { freePort, spawnWharf } from '../../fixtures/wharf-process.ts'
import { rawClient } from './helpers.ts'

test('wharf start --mqtt-connect-timeout-ms: a socket that never sends CONNECT is closed; a connected client is not', {
  timeout: 60_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-mqtt-connect-timeout-'))
  const port = await freePort()
  const wharf = spawnWharf(['--data-dir', dir, '--mqtt-port', String(port), '--mqtt-connect-timeout-ms', '1000'])
  t.after(async () => {
    wharf.proc.kill('SIGKILL')
    await wharf.exit
    rmSync(dir, { recursive: true, force: true })
  })
  await wharf.ready

  const client = await rawClient(t, port, 4)
  client.send({ cmd: 'connect', clientId: 'talks', protocolVersion: 4, clean: true, keepalive: 0 })
  await client.next('connack')

  const silent = net.connect(port, '127.0.0.1')
  t.after(() => silent.destroy())
  silent.on('error', () => {})
  let received = 0
  silent.on('data', (d) => {
    received += d.length
  })
  await new Promise<void>((resolve, reject) => silent.once('connect', resolve).once('error', reject))
  // Generous against the 1 s deadline (checked once a second); the default (10 s) would miss it.
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 6000)
    silent.once('close', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
  assert.equal(closed, true, 'the silent socket was closed')
  assert.equal(received, 0, 'nothing is written to a client that never sent CONNECT')
  assert.equal(client.socket.destroyed, false, 'the connected client stays')
  client.send({ cmd: 'pingreq' })
  await client.next('pingresp')
})
