// The protocol test files, unchanged, on the PostgreSQL engine: one private server, and each file run as a
// child `node --test` with WHARF_TEST_STORAGE set, so every broker its fixtures start (in-process, the CLI's,
// spawned `wharf start`) gets a database of its own on that server (test/fixtures/test-storage.ts).
// By default a representative subset (a few minutes); WHARF_LONG=1 runs every protocol test file,
// WHARF_PG_SUITE_FILES=substr,... the files whose paths contain one of them.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { test } from 'node:test'
import { startPostgres } from '../../fixtures/postgres.ts'

const root = new URL('../../../', import.meta.url).pathname

/** The subset CI runs: produce/fetch, groups and transactions on Kafka, confirms and queues on AMQP 0-9-1, MQTT
 *  QoS 1 and sessions, SQS, STOMP and AMQP 1.0 basics. */
const SUBSET = [
  'test/protocols/kafka/kafkajs.test.ts',
  'test/protocols/kafka/groups-cooperative.test.ts',
  'test/protocols/kafka/transactions.test.ts',
  'test/protocols/amqp/clients.test.ts',
  'test/protocols/mqtt/clients.test.ts',
  'test/protocols/mqtt/session.test.ts',
  'test/protocols/http/sqs/sqs.test.ts',
  'test/protocols/stomp/clients.test.ts',
  'test/protocols/amqp10/rhea.test.ts',
]

/**
 * Files that cannot pass on PostgreSQL, with why: they test the local engine's own disk (a full data-dir
 * filesystem, files in the data dir), which the PostgreSQL engine does not use.
 */
const DISK_FULL =
  "fills the local data directory's filesystem to test ENOSPC and the disk alarm; on PostgreSQL nothing is written there and the server turns the disk alarm off"
const NOT_ON_POSTGRES: Record<string, string> = {
  'test/protocols/amqp/disk-full.test.ts': DISK_FULL,
  'test/protocols/http/admin/disk-full.test.ts': DISK_FULL,
  'test/protocols/http/sns/disk-full.test.ts': DISK_FULL,
  'test/protocols/http/sqs/disk-full.test.ts': DISK_FULL,
  'test/protocols/kafka/delete-topics-disk-full.test.ts': DISK_FULL,
  'test/protocols/mqtt/disk-full.test.ts': DISK_FULL,
}

function protocolFiles(): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (name.endsWith('.test.ts')) out.push(relative(root, path))
    }
  }
  walk(join(root, 'test/protocols'))
  return out.sort()
}

interface Counts {
  tests: number
  pass: number
  fail: number
  skipped: number
  cancelled: number
}

function runFile(file: string, storage: string): Promise<{ code: number | null; counts: Counts; output: string }> {
  // Without NODE_TEST_CONTEXT (set for this file by its own runner), the child is a runner of its own.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-timeout=300000', '--test-force-exit', '--test-reporter=tap', file],
      { cwd: root, env: { ...env, WHARF_TEST_STORAGE: storage }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let output = ''
    child.stdout.on('data', (d) => {
      output += d
    })
    child.stderr.on('data', (d) => {
      output += d
    })
    child.on('close', (code) => {
      const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(output)?.[1] ?? 0)
      const counts = {
        tests: count('tests'),
        pass: count('pass'),
        fail: count('fail'),
        skipped: count('skipped'),
        cancelled: count('cancelled'),
      }
      resolve({ code, counts, output })
    })
  })
}

test('the protocol test files pass on PostgreSQL', { timeout: 3 * 3_600_000 }, async (t) => {
  const server = await startPostgres(t, {
    // Each broker holds a pool of up to 8 connections; a file may have a few brokers open at once.
    // The suites test protocol behaviour over the engine, not the disk under the database: no fsync.
    settings: ['max_connections=300', 'fsync=off', 'full_page_writes=off'],
  })
  if (server === undefined) return
  // WHARF_PG_SUITE_FILES: substrings picking protocol test files (for a look at one file).
  const pick = process.env.WHARF_PG_SUITE_FILES?.split(',').filter((s) => s !== '')
  const files =
    pick !== undefined && pick.length > 0
      ? protocolFiles().filter((file) => pick.some((s) => file.includes(s)))
      : process.env.WHARF_LONG === '1'
        ? protocolFiles()
        : SUBSET
  const total: Counts = { tests: 0, pass: 0, fail: 0, skipped: 0, cancelled: 0 }
  const failed: string[] = []
  await t.test('files', { concurrency: Number(process.env.WHARF_PG_SUITE_CONCURRENCY ?? 1) }, async (files_t) => {
    const runs = files.map((file) => {
      const reason = NOT_ON_POSTGRES[file]
      return files_t.test(file, { skip: reason }, async (ft) => {
        const { code, counts, output } = await runFile(file, server.url)
        for (const key of Object.keys(total) as Array<keyof Counts>) total[key] += counts[key]
        ft.diagnostic(`${counts.tests} tests: ${counts.pass} pass, ${counts.fail} fail, ${counts.skipped} skipped`)
        if (code !== 0) failed.push(file)
        assert.equal(code, 0, `${file} failed on PostgreSQL:\n${output.slice(-6000)}`)
      })
    })
    await Promise.all(runs)
  })
  t.diagnostic(
    `${files.length} files, ${total.tests} tests: ${total.pass} pass, ${total.fail} fail, ` +
      `${total.skipped} skipped, ${total.cancelled} cancelled; failed files: ${failed.join(' ') || 'none'}`,
  )
})
