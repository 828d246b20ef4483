// Stopping a broker while its PostgreSQL is down: `wharf start` on a private server gets SIGTERM after the
// server was stopped (connections refused) or frozen (SIGSTOP: connections and queries get no answer), with a
// produce the database never took. The engine's close waits for the database at most 5 s and logs what it
// could not write (never acknowledged), the whole stop is bounded at 30 s, and the process exits with code 1.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import { type PostgresServer, startPostgres } from '../../fixtures/postgres.ts'
import { type SpawnedWharf, startSpawned } from '../../fixtures/spawned-wharf.ts'

const EXIT_BOUND_MS = 60_000

/** A broker on a fresh database of `server` that has acknowledged a few produces. */
async function brokerWithData(
  t: TestContext,
  server: PostgresServer,
  name: string,
): Promise<{ wharf: SpawnedWharf['wharf']; lateProduce: () => void; disconnect: () => Promise<void> }> {
  const url = await server.createDatabase(name)
  const spawned = await startSpawned(t, ['kafka'], { args: ['--storage', url, '--durability', 'always'] })
  const kafka = new Kafka({
    clientId: 'close-outage',
    brokers: [`127.0.0.1:${spawned.ports.kafka}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  })
  const producer = kafka.producer({ allowAutoTopicCreation: true })
  await producer.connect()
  const disconnect = () => producer.disconnect().catch(() => {})
  t.after(disconnect)
  for (let i = 0; i < 5; i++) await producer.send({ topic: 'events', acks: -1, messages: [{ value: `m${i}` }] })
  const lateProduce = () => {
    producer.send({ topic: 'events', acks: -1, messages: [{ value: 'late' }] }).catch(() => {})
  }
  return { wharf: spawned.wharf, lateProduce, disconnect }
}

/** SIGTERM, then the exit code and how long it took, or 'hung' past EXIT_BOUND_MS. */
async function stopTimed(wharf: SpawnedWharf['wharf']): Promise<{ code: number | null | 'hung'; ms: number }> {
  const sentAt = Date.now()
  wharf.proc.kill('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const code = await Promise.race([
    wharf.exit,
    new Promise<'hung'>((resolve) => {
      timer = setTimeout(() => resolve('hung'), EXIT_BOUND_MS)
    }),
  ])
  clearTimeout(timer)
  return { code, ms: Date.now() - sentAt }
}

/** The server's postmaster and every process it forked (backends, WAL writer...), by /proc. */
function serverPids(server: PostgresServer): number[] {
  const postmaster = Number(readFileSync(join(server.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0])
  const pids = [postmaster]
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === postmaster) pids.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return pids
}

test('SIGTERM of wharf start with its PostgreSQL stopped: it logs what it could not write and exits 1', {
  timeout: 180_000,
}, async (t) => {
  const server = await startPostgres(t)
  if (server === undefined) return
  const { wharf, lateProduce, disconnect } = await brokerWithData(t, server, 'close_stopped')
  await server.stop('fast')
  lateProduce()
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const { code, ms } = await stopTimed(wharf)
  await disconnect()
  t.diagnostic(`database stopped: exit code ${code} ${ms} ms after SIGTERM`)
  assert.notEqual(code, 'hung', `still running ${EXIT_BOUND_MS} ms after SIGTERM:\n${wharf.output().slice(-3000)}`)
  assert.equal(code, 1)
  assert.match(wharf.output(), /storage closed without writing everything/)
})

test('SIGTERM of wharf start with its PostgreSQL frozen (SIGSTOP): the close bound ends the wait and it exits 1', {
  timeout: 180_000,
}, async (t) => {
  const server = await startPostgres(t)
  if (server === undefined) return
  const { wharf, lateProduce, disconnect } = await brokerWithData(t, server, 'close_frozen')
  const frozen = serverPids(server)
  // Thawed below, and here too if the test fails first, so that the fixture can stop the server.
  const signal = (name: NodeJS.Signals) => {
    for (const pid of frozen) {
      try {
        process.kill(pid, name)
      } catch {
        // exited meanwhile
      }
    }
  }
  t.after(() => signal('SIGCONT'))
  signal('SIGSTOP')
  lateProduce()
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const { code, ms } = await stopTimed(wharf)
  await disconnect()
  signal('SIGCONT')
  t.diagnostic(`database frozen: exit code ${code} ${ms} ms after SIGTERM`)
  // Either the engine's close gave the database up (its 5 s bound), or a write the broker made before closing
  // the engine was still waiting for its query timeout (30 s) when the stop's own bound (30 s) ended it.
  assert.match(
    wharf.output(),
    /storage closed without writing everything: the database did not answer|stop did not finish in time; exiting/,
  )
  assert.notEqual(code, 'hung', `still running ${EXIT_BOUND_MS} ms after SIGTERM:\n${wharf.output().slice(-3000)}`)
  assert.equal(code, 1)
})
