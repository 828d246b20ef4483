// The wharf CLI's message verbs as child processes against a Wharf started here: --version, produce with
// headers, consume (every partition or one, offsets, --follow, --group that continues), a closed stdout
// pipe, and queue get with ack modes, peek, purge and redrive.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { rest, runCli, spawnCli, startCliBroker } from './fixtures/cli-broker.ts'

const cliFixture = new URL('./fixtures/wharf-cli.ts', import.meta.url).pathname

test('wharf --version and -V print the package version', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  for (const flag of ['--version', '-V']) {
    const run = await runCli([flag])
    assert.equal(run.code, 0)
    assert.equal(run.stdout.trim(), version)
  }
})

test('produce -H does not swallow the message; consume reads every partition, one, from an offset', async (t) => {
  const { url } = await startCliBroker(t)
  await rest(url, 'POST', '/streams', { name: 'orders', partitions: 3 })
  for (const p of [0, 2])
    await rest(url, 'POST', '/streams/orders/messages', {
      encoding: 'text',
      messages: [`m${p}a`, `m${p}b`].map((value) => ({ value, partition: p })),
    })
  const run = await runCli([
    'produce',
    'orders',
    '-p',
    '1',
    '-H',
    'source=cli',
    '-H',
    'n=1',
    'm1a',
    'm1b',
    '--url',
    url,
  ])
  assert.equal(run.code, 0, run.stderr)
  const peek = await rest(url, 'GET', '/streams/orders/messages?partition=1&encoding=text')
  assert.deepEqual(
    peek.messages.map((m: { value: string }) => m.value),
    ['m1a', 'm1b'],
    'both positional messages were produced, none taken by -H',
  )
  assert.deepEqual(peek.messages[0].headers, { source: 'cli', n: '1' })

  const all = await runCli(['consume', 'orders', '--url', url])
  assert.equal(all.code, 0, all.stderr)
  assert.deepEqual(all.stdout.trim().split('\n').sort(), ['m0a', 'm0b', 'm1a', 'm1b', 'm2a', 'm2b'])
  const one = await runCli(['consume', 'orders', '--partition', '2', '--url', url])
  assert.deepEqual(one.stdout.trim().split('\n'), ['m2a', 'm2b'])
  const fromOffset = await runCli(['consume', 'orders', '-p', '0', '--offset', '1', '--json', '--url', url])
  const line = JSON.parse(fromOffset.stdout.trim())
  assert.equal(line.value, 'm0b')
  assert.equal(line.offset, 1)
  assert.equal(line.partition, 0)
  const beginning = await runCli([
    'consume',
    'orders',
    '--offset',
    'latest',
    '--from-beginning',
    '-n',
    '2',
    '--url',
    url,
  ])
  assert.equal(beginning.stdout.trim().split('\n').length, 2)
  const bad = await runCli(['consume', 'orders', '--partition', '7', '--url', url])
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /3 partition\(s\)/)
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace')
})

test('consume --group commits what it printed, so a second run continues', async (t) => {
  const { url } = await startCliBroker(t)
  await rest(url, 'POST', '/streams', { name: 'events', partitions: 2 })
  const values = [...['a1', 'a2', 'a3'].map((value) => ({ value, partition: 0 })), { value: 'b1', partition: 1 }]
  for (const m of [...values, { value: 'b2', partition: 1 }])
    await rest(url, 'POST', '/streams/events/messages', { encoding: 'text', messages: [m] })
  const first = await runCli(['consume', 'events', '--group', 'g1', '-n', '3', '--url', url])
  assert.equal(first.code, 0, first.stderr)
  const firstLines = first.stdout.trim().split('\n')
  assert.equal(firstLines.length, 3)
  const second = await runCli(['consume', 'events', '--group', 'g1', '--url', url])
  const secondLines = second.stdout.trim().split('\n')
  assert.deepEqual([...firstLines, ...secondLines].sort(), ['a1', 'a2', 'a3', 'b1', 'b2'], 'each message once')
  const third = await runCli(['consume', 'events', '--group', 'g1', '--url', url])
  assert.equal(third.stdout, '', 'nothing left for the group')
  const group = await rest(url, 'GET', '/groups/g1')
  assert.equal(group.lag, 0)
  assert.deepEqual(
    group.partitions.map((p: { committed: number }) => p.committed),
    [3, 2],
  )
})

test('consume --follow prints messages produced while it waits', async (t) => {
  const { url } = await startCliBroker(t)
  await rest(url, 'POST', '/streams', { name: 'live' })
  const proc = spawnCli(['consume', 'live', '--follow', '--url', url])
  t.after(() => proc.kill('SIGKILL'))
  let out = ''
  const seen = new Promise<void>((resolve) => {
    proc.stdout!.on('data', (d) => {
      out += d
      if (out.includes('later')) resolve()
    })
  })
  await new Promise((resolve) => setTimeout(resolve, 1500))
  await rest(url, 'POST', '/streams/live/messages', { encoding: 'text', messages: [{ value: 'later' }] })
  await seen
  proc.kill('SIGINT')
  const code = await new Promise((resolve) => proc.on('exit', resolve))
  assert.equal(code, 0)
})

test('wharf consume | head -1 exits quietly with status 0 (EPIPE)', async (t) => {
  const { url } = await startCliBroker(t)
  await rest(url, 'POST', '/streams', { name: 'big' })
  for (let batch = 0; batch < 3; batch++)
    await rest(url, 'POST', '/streams/big/messages', {
      encoding: 'text',
      messages: Array.from({ length: 1000 }, (_, i) => ({ value: `line-${batch * 1000 + i}-${'x'.repeat(200)}` })),
    })
  const shell = spawn(
    'sh',
    ['-c', `"${process.execPath}" --import tsx "${cliFixture}" consume big --url ${url} | head -1; echo "status=$?"`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stdout = ''
  let stderr = ''
  shell.stdout.on('data', (d) => {
    stdout += d
  })
  shell.stderr.on('data', (d) => {
    stderr += d
  })
  await new Promise((resolve) => shell.on('close', resolve))
  assert.match(stdout, /^line-0-x+\n/)
  assert.equal(stderr, '', 'no EPIPE error or stack trace')
  // Status of the wharf side of the pipe itself: destroy its stdout early.
  const proc = spawnCli(['consume', 'big', '--url', url])
  let errors = ''
  proc.stderr!.on('data', (d) => {
    errors += d
  })
  proc.stdout!.once('data', () => proc.stdout!.destroy())
  const code = await new Promise((resolve) => proc.on('exit', resolve))
  assert.equal(code, 0)
  assert.equal(errors, '')
})

test('queues get takes messages with ack, requeue or reject; peek, purge and redrive', async (t) => {
  const { url } = await startCliBroker(t)
  await rest(url, 'POST', '/queues', { name: 'jobs.dead' })
  await rest(url, 'POST', '/queues', { name: 'jobs', deadLetter: { queue: 'jobs.dead' } })
  await rest(url, 'POST', '/queues/jobs/messages', {
    encoding: 'text',
    messages: ['j1', 'j2', 'j3', 'j4'].map((value) => ({ value })),
  })

  const requeued = await runCli(['queues', 'get', 'jobs', '--json', '--url', url])
  assert.equal(requeued.code, 0, requeued.stderr)
  const first = JSON.parse(requeued.stdout.trim())
  assert.equal(first.value, 'j1')
  assert.equal(first.deliveryCount, 1)
  assert.equal((await rest(url, 'GET', '/queues/jobs')).ready, 4, 'requeue (the default) keeps the message')

  const acked = await runCli(['queues', 'get', 'jobs', '--count', '2', '--ack', '--json', '--url', url])
  const [again, second] = acked.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  assert.equal(again.value, 'j1')
  assert.equal(again.redelivered, true, 'requeued before')
  assert.equal(second.value, 'j2')
  assert.equal((await rest(url, 'GET', '/queues/jobs')).ready, 2)

  const rejected = await runCli(['queues', 'get', 'jobs', '--reject', '--url', url])
  assert.equal(rejected.stdout.trim(), 'j3')
  const peek = await runCli(['queues', 'peek', 'jobs.dead', '--url', url])
  assert.equal(peek.stdout.trim(), 'j3', 'rejected into the dead-letter queue')
  assert.equal((await rest(url, 'GET', '/queues/jobs.dead')).ready, 1, 'peek took nothing')

  const redrive = await runCli(['queues', 'redrive', 'jobs.dead', '--url', url])
  assert.equal(redrive.code, 0, redrive.stderr)
  assert.match(redrive.stdout, /moved 1 message/)
  assert.equal((await rest(url, 'GET', '/queues/jobs')).ready, 2)

  const purge = await runCli(['queues', 'purge', 'jobs', '--url', url])
  assert.match(purge.stdout, /purged 2 message/)
  assert.equal((await rest(url, 'GET', '/queues/jobs')).ready, 0)
  const both = await runCli(['queues', 'get', 'jobs', '--ack', '--reject', '--url', url])
  assert.equal(both.code, 1)
  assert.match(both.stderr, /one of --ack, --requeue, --reject/)
})
