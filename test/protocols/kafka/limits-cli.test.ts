// `wharf start` on a real 20 MiB tmpfs, where the disk alarm (default limit 50 MiB free) is on from the start:
// Kafka produces are refused with a retriable error and nothing reaches the disk, while reads and metadata
// work; and --kafka-connections-max-idle-ms closes an idle socket. Needs root (mount); skipped elsewhere.
import assert from 'node:assert/strict'
import { statfsSync } from 'node:fs'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import type { ApiVersionsResponse } from '../../../src/protocols/kafka/codec/index.ts'
import { onTestPostgres } from '../../fixtures/test-storage.ts'
import { mountTmpfs, removeTmpfs } from '../../fixtures/tmpfs.ts'
import { freePort, spawnWharf } from '../../fixtures/wharf-process.ts'
import { silentKafkaLogs } from './harness.ts'
import { RawClient } from './raw-client.ts'

test('wharf start with the disk alarm on from the start: Kafka produces are refused and the disk is not filled', {
  // The disk alarm watches the local data dir; on PostgreSQL the server turns it off.
  skip: onTestPostgres() ? 'no disk alarm on PostgreSQL' : false,
  timeout: 60_000,
}, async (t) => {
  const dir = mountTmpfs(t, 'wharf-kafka-alarm-', '20m')
  if (dir === undefined) return
  const port = await freePort()
  const wharf = spawnWharf(['--data-dir', dir, '--kafka-port', String(port), '--kafka-connections-max-idle-ms', '400'])
  const clients: Array<() => Promise<unknown> | unknown> = []
  // Clients first, then the broker, then the mount it used (after hooks run in the order they were added).
  t.after(async () => {
    for (const stop of clients.reverse()) await Promise.resolve(stop()).catch(() => {})
    wharf.proc.kill('SIGKILL')
    await wharf.exit
    removeTmpfs(dir)
  })
  await wharf.ready
  const free = () => {
    const s = statfsSync(dir)
    return s.bavail * s.bsize
  }
  const freeAtStart = free()

  const kafka = new Kafka({
    clientId: 'full-disk',
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    logCreator: silentKafkaLogs,
    retry: { retries: 0 },
  })
  const admin = kafka.admin()
  await admin.connect()
  clients.push(() => admin.disconnect())
  await admin.createTopics({ topics: [{ topic: 'full', numPartitions: 1 }] })
  const producer = kafka.producer()
  await producer.connect()
  clients.push(() => producer.disconnect())
  const payload = Buffer.alloc(256 * 1024, 1)
  for (let i = 0; i < 3; i++) {
    await assert.rejects(
      producer.send({ topic: 'full', timeout: 300, messages: [{ value: payload }, { value: payload }] }),
      (error: Error & { type?: string }) => error.type === 'REQUEST_TIMED_OUT' || /timed out/i.test(error.message),
    )
  }
  const offsets = await admin.fetchTopicOffsets('full')
  assert.equal(offsets[0]?.high, '0', 'nothing appended under the disk alarm')
  assert.ok(freeAtStart - free() < 2 * 1024 * 1024, `free space fell from ${freeAtStart} to ${free()}`)

  // An idle connection is closed after --kafka-connections-max-idle-ms.
  const raw = new RawClient(port)
  clients.push(() => raw.socket.destroy())
  raw.send(18, 3, 1, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' })
  assert.equal((await raw.response<ApiVersionsResponse>(18, 3)).body.errorCode, 0)
  await Promise.race([
    raw.closed,
    new Promise((_, reject) => setTimeout(() => reject(new Error('idle connection not closed')), 5000)),
  ])
})
