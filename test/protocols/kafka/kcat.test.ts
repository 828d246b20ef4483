// kcat 1.7.1 (librdkafka 2.0.2), unmodified, against Wharf's Kafka listener.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readBatchHeader, splitBatches } from '../../../src/record/index.ts'
import { run, startHarness } from './harness.ts'

test('kcat -P / -C round trip, -L metadata, consumer group, idempotent producer', async (t) => {
  const h = await startHarness(t)
  await run('kcat', ['-b', h.bootstrap, '-P', '-t', 'plain', '-K', ':'], { input: 'k1:a\nk2:b\nk3:c\n' })
  await run('kcat', ['-b', h.bootstrap, '-P', '-t', 'plain', '-X', 'enable.idempotence=true'], { input: 'd\ne\n' })
  const consumed = await run('kcat', [
    '-b',
    h.bootstrap,
    '-C',
    '-t',
    'plain',
    '-o',
    'beginning',
    '-e',
    '-f',
    '%o|%k|%s\n',
  ])
  assert.deepEqual(consumed.stdout.trim().split('\n'), ['0|k1|a', '1|k2|b', '2|k3|c', '3||d', '4||e'])
  // The idempotent producer's batch carries the producer id InitProducerId handed out.
  const read = await h.broker
    .stream('plain')
    .partitionLog(0)
    .read(3, 1 << 20)
  const last = splitBatches(read.chunks[0]!).map((b) => readBatchHeader(b))
  assert.ok(
    last.some((hd) => hd.producerId >= 0),
    'idempotent batch has a producer id',
  )

  const metadata = await run('kcat', ['-b', h.bootstrap, '-L'])
  assert.match(metadata.stdout, new RegExp(`broker 0 at 127\\.0\\.0\\.1:${h.port}`))
  assert.match(metadata.stdout, /topic "plain" with 1 partitions/)

  const group = await run('kcat', ['-b', h.bootstrap, '-G', 'kgroup', 'plain', '-o', 'beginning', '-e', '-f', '%s\n'], {
    timeoutMs: 40_000,
  })
  assert.deepEqual(group.stdout.trim().split('\n'), ['a', 'b', 'c', 'd', 'e'])
  const committed = h.broker.committedOffset('kgroup', 'plain', 0)
  assert.ok(committed === undefined || committed.offset <= 5)
})

test('kcat produces with gzip, snappy, lz4 and zstd; batches are stored compressed and read back', async (t) => {
  const h = await startHarness(t)
  const codecs = ['gzip', 'snappy', 'lz4', 'zstd'] as const
  const codecIds = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 }
  for (const codec of codecs) {
    // Repetitive lines so compressing pays off (librdkafka sends a batch raw when it would not shrink).
    const lines = Array.from({ length: 50 }, (_, i) => `${codec}-${i}-${'x'.repeat(200)}`)
    await run('kcat', ['-b', h.bootstrap, '-P', '-t', `z-${codec}`, '-z', codec], { input: `${lines.join('\n')}\n` })
    const read = await h.broker
      .stream(`z-${codec}`)
      .partitionLog(0)
      .read(0, 1 << 20)
    const compressions = read.chunks.flatMap((c) => splitBatches(c)).map((b) => readBatchHeader(b).compression)
    assert.ok(compressions.includes(codecIds[codec]), `${codec}: stored compression ids ${compressions}`)
    const back = await run('kcat', ['-b', h.bootstrap, '-C', '-t', `z-${codec}`, '-o', 'beginning', '-e', '-f', '%s\n'])
    assert.deepEqual(back.stdout.trim().split('\n'), lines)
  }
})
