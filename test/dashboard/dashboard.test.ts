// The dashboard in a real browser (Debian's Chromium through playwright-core) against an in-process Wharf
// with the HTTP and Kafka listeners. Traffic comes from real clients (kafkajs for the stream and the
// consumer group) and the broker API (queues, dead letters); every page is checked against the broker's
// own numbers, and the operations (produce, browse, peek, purge, redrive, offset reset, create/delete)
// are driven through the UI and verified in the broker. Screenshots go to test/artifacts/<page>.png.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import amqplib from 'amqplib'
import { Kafka, logLevel } from 'kafkajs'
import type { Page } from 'playwright-core'
import { type Broker, createBroker } from '../../src/index.ts'
import { startAmqpListener } from '../../src/protocols/amqp/index.ts'
import { startHttpListener } from '../../src/protocols/http/listener.ts'
import { startKafkaListener } from '../../src/protocols/kafka/index.ts'
import { silentLogger } from '../../src/util/logger.ts'
import { chromiumMissing, launchChromium } from './chromium.ts'

// The page-side globals used by functions passed to page.evaluate (the repository's tsconfig has no DOM lib).
interface PageElement {
  textContent: string | null
  outerHTML: string
  labels?: { length: number } | null
  getAttribute(name: string): string | null
}
declare const document: {
  querySelector(selector: string): PageElement | null
  querySelectorAll(selector: string): Iterable<PageElement>
  activeElement: PageElement | null
}

const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts')

interface Started {
  name: string
  port: number
  urls: string[]
  close(): Promise<void>
}

async function totalLag(broker: Broker, group: string, stream: string): Promise<number> {
  return broker.log.lag(group, stream).reduce((sum, p) => sum + Math.max(0, p.lag), 0)
}

async function metric(page: Page, key: string): Promise<string> {
  return (await page.locator(`[data-metric="${key}"]`).first().textContent())?.trim() ?? ''
}

const num = (n: number) => n.toLocaleString('en-US')

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
}

test('dashboard in Chromium: every page shows the broker’s numbers and operates it', {
  skip: chromiumMissing,
  timeout: 90_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-dash-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(ARTIFACTS, { recursive: true })
  const broker = await createBroker({ dataDir: dir, durability: 'never' })
  const started = new Map<string, Started>()
  // The server passes its live listener registry as `started`; the listeners endpoint reads it.
  const httpContext = {
    broker,
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    started,
    config: { rateSampleMs: 500 },
  }
  const http = await startHttpListener(httpContext)
  started.set('http', http)
  const kafkaListener = await startKafkaListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
  started.set('kafka', kafkaListener)
  const amqpListener = await startAmqpListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
  started.set('amqp', amqpListener)
  const base = `http://127.0.0.1:${http.port}`
  t.after(async () => {
    await amqpListener.close()
    await kafkaListener.close()
    await http.close()
    await broker.close()
  })

  // ---- static serving: content types, caching, no-external CSP ----
  {
    const index = await fetch(`${base}/`)
    assert.equal(index.status, 200)
    assert.match(index.headers.get('content-type') ?? '', /^text\/html/)
    assert.match(index.headers.get('content-security-policy') ?? '', /default-src 'none'/)
    const etag = index.headers.get('etag')
    assert.ok(etag)
    assert.equal((await fetch(`${base}/`, { headers: { 'if-none-match': etag } })).status, 304)
    const app = await fetch(`${base}/dashboard/app.js`)
    assert.match(app.headers.get('content-type') ?? '', /^text\/javascript/)
    assert.equal(app.headers.get('cache-control'), 'no-cache')
    const uplot = await fetch(`${base}/dashboard/vendor/uPlot.esm.js`)
    assert.equal(uplot.status, 200)
    assert.match(uplot.headers.get('cache-control') ?? '', /max-age=/)
    assert.match(await uplot.text(), /export \{ uPlot as default \}/)
    const css = await fetch(`${base}/dashboard/vendor/uPlot.min.css`)
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/)
    assert.equal((await fetch(`${base}/dashboard/../package.json`)).status, 404)
    assert.equal((await fetch(`${base}/dashboard/nope.js`)).status, 404)
  }

  // ---- real traffic ----
  const kafka = new Kafka({
    clientId: 'dash-test',
    brokers: [`127.0.0.1:${kafkaListener.port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 },
  })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] })
  await admin.disconnect()
  const producer = kafka.producer()
  await producer.connect()
  const orders = Array.from({ length: 12 }, (_, i) => ({
    key: `customer-${i % 4}`,
    value: JSON.stringify({ order: i, total: 9.5 + i }),
    headers: { source: 'kafkajs' },
  }))
  await producer.send({ topic: 'orders', messages: orders })

  // A real group consumes everything and commits, then leaves (Empty), then more data arrives: lag > 0.
  const consumer = kafka.consumer({ groupId: 'billing', sessionTimeout: 10_000, heartbeatInterval: 500 })
  await consumer.connect()
  await consumer.subscribe({ topic: 'orders', fromBeginning: true })
  let seen = 0
  const allSeen = new Promise<void>((resolve) => {
    void consumer.run({
      autoCommitInterval: 100,
      eachMessage: async () => {
        if (++seen === orders.length) resolve()
      },
    })
  })
  await allSeen
  await consumer.disconnect()
  await producer.send({
    topic: 'orders',
    messages: [
      { key: 'late', value: 'x' },
      { key: 'late', value: 'y' },
    ],
  })
  // A second topic receives traffic while the overview is open (its live rate must move).
  await broker.createStream('clicks')
  t.after(() => producer.disconnect())
  // One AMQP client connection, counted on the listeners/connections pages.
  const amqpConnection = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${amqpListener.port}`)
  t.after(() => amqpConnection.close().catch(() => {}))
  const lagBefore = await totalLag(broker, 'billing', 'orders')
  assert.equal(lagBefore, 2)

  // Queues: a work queue with a dead-letter queue; two messages rejected into it, one in flight.
  await broker.createQueue('jobs.dlq')
  await broker.createQueue('jobs', { maxDeliveries: 3, deadLetter: { queue: 'jobs.dlq' } })
  await broker.sendToQueue(
    'jobs',
    Array.from({ length: 6 }, (_, i) => ({ value: Buffer.from(`job-${i}`), headers: [] })),
  )
  const rejected = await broker.get('jobs', { owner: 'test-worker', max: 2 })
  for (const d of rejected) broker.queue('jobs').nack(d.partition, d.offset, false)
  await broker.get('jobs', { owner: 'test-worker', max: 1, leaseMs: 120_000 })
  await broker.createQueue('scratch')
  await broker.sendToQueue('scratch', [{ value: Buffer.from('a') }, { value: Buffer.from('b') }])
  await broker.declareExchange({ name: 'events', type: 'topic' })
  await broker.bind({ source: 'events', destination: { kind: 'queue', name: 'jobs' }, key: 'job.*', arguments: {} })
  await broker.topics.createTopic('alerts')
  await broker.topics.subscribe({ topic: 'alerts', destination: { kind: 'queue', name: 'scratch' } })
  // Two versions of a subject, registered over the registry's HTTP API (the second adds a field).
  for (const fields of [
    [{ name: 'order', type: 'int' }],
    [
      { name: 'order', type: 'int' },
      { name: 'total', type: 'double', default: 0 },
    ],
  ]) {
    const registered = await fetch(`${base}/subjects/orders-value/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify({ type: 'record', name: 'Order', fields }) }),
    })
    assert.equal(registered.status, 200)
  }

  // ---- browser ----
  const browser = await launchChromium(t)
  const page = await browser.newPage()
  const external: string[] = []
  const pageErrors: string[] = []
  page.on('request', (request) => {
    if (!request.url().startsWith(base)) external.push(request.url())
  })
  page.on('pageerror', (error) => pageErrors.push(String(error.stack ?? error)))
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text())
  })
  page.setDefaultTimeout(10_000)

  /** Every form control on the page has a label (accessibility rule for every input). */
  const assertLabelled = async (where: string) => {
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, textarea')]
        .filter((el) => el.labels?.length === 0 && !el.getAttribute('aria-label'))
        .map((el) => el.outerHTML),
    )
    assert.deepEqual(unlabelled, [], `unlabelled controls on ${where}`)
  }

  // Overview: counts equal the broker's; the rate chart is drawn and gets a rate after two polls.
  await page.goto(`${base}/#/`)
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
  // Tiles count what the lists show by default: streams under a queue (`jobs`…) are the queues' own.
  assert.equal(await metric(page, 'queues'), num(broker.listQueues().length))
  const plainStreams = broker.listStreams().filter((s) => ![...s.queues].some((q) => q.name === s.name))
  assert.equal(await metric(page, 'streams'), num(plainStreams.length))
  const messagesIn = broker.listStreams().reduce((n, x) => n + x.stats.messagesIn, 0)
  assert.equal(await metric(page, 'messages-in'), num(messagesIn))
  assert.equal(await metric(page, 'groups'), '1')
  assert.equal(await metric(page, 'topics'), '1')
  const ready = broker.listQueues().reduce((n, q) => n + q.queueStats().ready, 0)
  assert.equal(await metric(page, 'ready'), num(ready))
  assert.equal(await metric(page, 'unacked'), '1')
  assert.equal(await metric(page, 'lag'), '2')
  await page.locator('.uplot canvas').first().waitFor()
  // Live rates: produce over Kafka while the page polls; the "in" rate becomes positive.
  const traffic = setInterval(() => {
    void producer.send({ topic: 'clicks', messages: Array.from({ length: 20 }, () => ({ value: 'click' })) })
  }, 200)
  try {
    await page.waitForFunction(
      () => Number(document.querySelector('[data-metric="rate-in"]')?.textContent ?? '0') > 0,
      undefined,
      { timeout: 15_000 },
    )
  } finally {
    clearInterval(traffic)
  }
  assert.equal(await page.getByRole('row', { name: /^amqp/ }).locator('td').last().textContent(), '1')
  await page.getByRole('cell', { name: 'kafka' }).waitFor()
  assert.ok(await page.getByRole('cell', { name: String(kafkaListener.port), exact: true }).isVisible())
  // Connection counts per protocol: the card matches the listeners' own counts.
  const connectionsCard = await metric(page, 'connections')
  assert.match(connectionsCard, /amqp 1\b/)
  assert.match(connectionsCard, new RegExp(`^${amqpListener.connectionCount + kafkaListener.connectionCount} `))
  await shot(page, 'overview')
  // Keyboard: the first Tab reaches the skip link, which is then visible.
  await page.keyboard.press('Tab')
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content')

  // Streams list: server-side filter.
  await page.getByRole('link', { name: 'Streams', exact: true }).click()
  await page.getByRole('heading', { level: 1, name: 'Streams' }).waitFor()
  await page.getByLabel('Filter streams by name').fill('ord')
  await page.waitForFunction(() => document.querySelector('.count')?.textContent === '1–1 of 1')
  assert.match(page.url(), /#\/streams\?q=ord/)
  await assertLabelled('streams')
  await shot(page, 'streams')

  // Stream detail: offsets equal the broker's; browse shows a message produced over Kafka.
  await page.getByRole('link', { name: 'orders', exact: true }).click()
  await page.getByRole('heading', { level: 1, name: 'orders' }).waitFor()
  const stream = broker.stream('orders')
  const rows = page.locator('table').first().locator('tbody tr')
  assert.equal(await rows.count(), 3)
  for (let p = 0; p < 3; p++) {
    const cells = rows.nth(p).locator('td')
    assert.equal(await cells.nth(1).textContent(), num(stream.partitions[p]!.highWatermark))
  }
  const first = (await broker.readMessages('orders', 0, 0)).messages[0]!
  await page.getByRole('button', { name: 'Browse partition 0' }).click()
  const browsed = page.locator('section', { has: page.getByRole('heading', { name: 'Browse messages' }) })
  await browsed.getByRole('cell', { name: first.key!.toString() }).first().waitFor()
  assert.ok(await browsed.getByText(first.value!.toString()).first().isVisible())
  assert.ok(await browsed.getByText('source: kafkajs').first().isVisible())
  await page.getByLabel('Show payload as').first().selectOption('hex')
  const hexOfFirst = first.value!.subarray(0, 4).toString('hex').match(/../g)!.join(' ')
  await browsed.getByText(hexOfFirst).first().waitFor()
  await page.getByLabel('Show payload as').first().selectOption('json')
  await shot(page, 'stream')
  // From an offset, one at a time, then the next page; then from a time before everything.
  await page.getByLabel('From').selectOption('offset')
  await page.getByLabel('Offset', { exact: true }).fill('1')
  await page.getByLabel('Limit').fill('1')
  await page.getByRole('button', { name: 'Show messages' }).click()
  await browsed.getByText('Partition 0: 1 message(s)').waitFor()
  assert.equal(await browsed.locator('tbody tr td').first().textContent(), '1')
  await browsed.getByRole('button', { name: 'Next from offset 2' }).click()
  await page.waitForFunction(() => document.querySelector('section tbody tr td')?.textContent === '2')
  await page.getByLabel('From').selectOption('timestamp')
  const before = new Date(first.timestamp - 60_000 - new Date().getTimezoneOffset() * 60_000)
  await page.getByLabel('Time (local)').fill(before.toISOString().slice(0, 19))
  await page.getByLabel('Limit').fill('20')
  await page.getByRole('button', { name: 'Show messages' }).click()
  await browsed.getByText(`Partition 0: ${stream.partitions[0]!.highWatermark} message(s)`).waitFor()

  // Produce a test message through the UI, into partition 2, and find it in the broker.
  const hwBefore = stream.partitions[2]!.highWatermark
  await page.getByLabel('Partition', { exact: true }).last().selectOption('2')
  await page.getByLabel('Key (optional)').fill('from-ui')
  await page.getByLabel('Headers (one “name: value” per line)').fill('trace: abc')
  await page.getByLabel('Value', { exact: true }).fill('{"hello":"dashboard"}')
  await page.getByRole('button', { name: 'Produce' }).click()
  await page.getByRole('status').getByText(`Produced to partition 2 at offset ${hwBefore}.`).waitFor()
  const produced = (await broker.readMessages('orders', 2, hwBefore)).messages[0]!
  assert.equal(produced.key?.toString(), 'from-ui')
  assert.equal(produced.value?.toString(), '{"hello":"dashboard"}')
  assert.equal(produced.headers.find((h) => h.key === 'trace')?.value?.toString(), 'abc')
  await assertLabelled('stream detail')

  // Schema-decoded browse (issue 9): Confluent-framed Avro under the registered orders-value subject is
  // shown as JSON by default; a framed record whose payload is broken shows the decode error instead.
  await broker.createStream('payments', { partitions: 1 })
  const avroId = broker.schemas.getVersion('orders-value', 'latest').id
  const avroValue = broker.schemas.encode('orders-value', { order: 42, total: 1.5 })
  await broker.produce('payments', [
    { key: Buffer.from('p-1'), value: avroValue, headers: [] },
    { key: null, value: Buffer.concat([avroValue.subarray(0, 5), Buffer.from([0xff])]), headers: [] },
  ])
  await page.goto(`${base}/#/streams/payments`)
  await page.getByRole('heading', { level: 1, name: 'payments' }).waitFor()
  await page.getByRole('button', { name: 'Browse partition 0' }).click()
  await browsed.getByText(`Avro · orders-value · schema id ${avroId}`).first().waitFor()
  assert.ok(await browsed.getByText('"order": 42').isVisible())
  assert.ok(await browsed.getByText(/^Cannot decode: /).isVisible())
  await shot(page, 'stream-avro')
  // The raw views stay available: hex shows the magic byte and the schema id.
  await page.getByLabel('Show payload as').first().selectOption('hex')
  await browsed.getByText(avroValue.subarray(0, 5).toString('hex').match(/../g)!.join(' ')).first().waitFor()
  assert.equal(await browsed.getByText('"order": 42').count(), 0)

  // Create and delete a stream through the UI (delete needs the name typed).
  await page.goto(`${base}/#/streams`)
  await page.getByLabel('Name', { exact: true }).fill('ui-made')
  await page.getByLabel('Partitions').fill('2')
  await page.getByRole('button', { name: 'Create stream' }).click()
  await page.getByRole('status').getByText('Created stream ui-made.').waitFor()
  assert.equal(broker.stream('ui-made').partitions.length, 2)
  await page.goto(`${base}/#/streams/ui-made`)
  await page.getByRole('button', { name: 'Delete stream' }).click()
  const dialog = page.getByRole('dialog')
  assert.ok(await dialog.getByRole('button', { name: 'Delete stream' }).isDisabled())
  await dialog.getByLabel('Type “ui-made” to confirm').fill('ui-made')
  await dialog.getByRole('button', { name: 'Delete stream' }).click()
  await page.getByRole('heading', { level: 1, name: 'Streams' }).waitFor()
  assert.equal(broker.getStream('ui-made'), undefined)

  // Queues list and detail: the true numbers.
  await page.goto(`${base}/#/queues`)
  await page.getByRole('heading', { level: 1, name: 'Queues' }).waitFor()
  const jobsRow = page.locator('tbody tr', { has: page.getByRole('link', { name: 'jobs', exact: true }) })
  const jobs = broker.queueStats('jobs')
  assert.deepEqual(await jobsRow.locator('td').allTextContents(), [
    num(jobs.ready),
    num(jobs.inflight),
    num(jobs.delayed),
    num(jobs.depth),
    num(jobs.consumers),
    'jobs.dlq',
  ])
  await assertLabelled('queues')
  await shot(page, 'queues')
  await page.getByRole('link', { name: 'jobs', exact: true }).click()
  await page.getByRole('heading', { level: 1, name: 'jobs' }).waitFor()
  assert.equal(await metric(page, 'depth'), num(broker.queueStats('jobs').depth))
  assert.equal(await metric(page, 'ready'), num(broker.queueStats('jobs').ready))
  assert.equal(await metric(page, 'unacked'), '1')
  // Peek does not consume: the numbers are the same afterwards.
  const depthBefore = broker.queueStats('jobs').depth
  await page.getByRole('button', { name: 'Peek messages' }).click()
  await page.getByText('job-5').waitFor()
  assert.equal(broker.queueStats('jobs').depth, depthBefore)
  assert.equal(broker.queueStats('jobs').inflight, 1)
  await assertLabelled('queue detail')
  await shot(page, 'queue')

  // Dead-letter queue: redrive back to the source.
  await page.getByRole('link', { name: 'jobs.dlq' }).first().click()
  await page.getByRole('heading', { level: 1, name: 'jobs.dlq' }).waitFor()
  assert.equal(await metric(page, 'depth'), '2')
  assert.equal(broker.queueStats('jobs.dlq').depth, 2)
  await page.getByLabel('Move every ready message to').selectOption('jobs')
  await page.getByRole('button', { name: 'Redrive messages' }).click()
  await page.getByRole('status').getByText('Moved 2 message(s).').waitFor()
  assert.equal(broker.queueStats('jobs.dlq').depth, 0)
  assert.equal(broker.queueStats('jobs').depth, depthBefore + 2)
  await shot(page, 'dlq')

  // Purge with confirmation.
  await page.goto(`${base}/#/queues/scratch`)
  await page.getByRole('heading', { level: 1, name: 'scratch' }).waitFor()
  await page.getByRole('button', { name: 'Purge' }).click()
  await page.getByRole('dialog').getByLabel('Type “scratch” to confirm').fill('scratch')
  await page.getByRole('dialog').getByRole('button', { name: 'Purge' }).click()
  await page.getByRole('status').getByText('Purged 2 message(s) from scratch.').waitFor()
  assert.equal(broker.queueStats('scratch').depth, 0)

  // Consumer group: lag per partition equals the broker's; reset to earliest changes it.
  await page.goto(`${base}/#/groups`)
  await page.getByRole('link', { name: 'billing' }).click()
  await page.getByRole('heading', { level: 1, name: 'billing' }).waitFor()
  // 2 produced after the group left + 1 produced through the UI.
  assert.equal(await totalLag(broker, 'billing', 'orders'), 3)
  assert.equal(await metric(page, 'lag'), '3')
  const groupRows = page.locator('tbody tr')
  assert.equal(await groupRows.count(), 3)
  for (const p of broker.log.lag('billing', 'orders')) {
    const cells = groupRows.nth(p.partition).locator('td')
    assert.equal(await cells.nth(1).textContent(), num(p.committed ?? 0))
    assert.equal(await cells.nth(3).textContent(), num(Math.max(0, p.lag)))
  }
  await page.getByLabel('Reset to').selectOption('earliest')
  await page.getByRole('button', { name: 'Reset offsets' }).click()
  await page.getByRole('dialog').getByRole('button', { name: 'Reset offsets' }).click()
  await page.getByRole('status').getByText('Reset 3 partition(s) of orders.').waitFor()
  const total = stream.partitions.reduce((n, log) => n + log.highWatermark - log.logStartOffset, 0)
  assert.equal(await totalLag(broker, 'billing', 'orders'), total)
  await page.waitForFunction((n) => document.querySelector('[data-metric="lag"]')?.textContent === n, num(total))
  await assertLabelled('group')
  await shot(page, 'group')

  // Exchanges, SNS topics, schemas, connections.
  await page.goto(`${base}/#/exchanges/events`)
  await page.getByRole('heading', { level: 1, name: 'events' }).waitFor()
  await page.getByRole('cell', { name: 'job.*' }).waitFor()
  await shot(page, 'exchange')
  await page.goto(`${base}/#/topics`)
  await page.getByRole('link', { name: 'alerts' }).click()
  await page.getByRole('link', { name: 'queue scratch' }).waitFor()
  await page.goto(`${base}/#/schemas`)
  await page.getByRole('link', { name: 'orders-value' }).click()
  await page.getByText('"name": "total"').first().waitFor()
  await page.getByRole('button', { name: 'Compare' }).click()
  await page.getByText(/\d+ changed line\(s\)/).waitFor()
  assert.ok(await page.locator('.diff-add', { hasText: '"name": "total"' }).isVisible())
  await shot(page, 'schema')
  // Connections: a named amqplib connection is listed with its client, and closed through the UI.
  const doomed = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${amqpListener.port}`, {
    clientProperties: { connection_name: 'ui-closer' },
  })
  t.after(() => doomed.close().catch(() => {}))
  const doomedClosed = new Promise<Error & { code?: number }>((resolve) => doomed.once('close', resolve))
  await page.goto(`${base}/#/connections`)
  await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor()
  const listenersTable = page.getByRole('table', { name: 'Listeners' })
  const amqpCount = listenersTable.getByRole('row', { name: /^amqp/ }).locator('td').last()
  assert.equal(await amqpCount.textContent(), '2')
  const doomedRow = page.getByRole('row', { name: /^ui-closer/ })
  await doomedRow.waitFor()
  assert.match((await doomedRow.textContent()) ?? '', /amqplib \d+\.\d+\.\d+/)
  assert.match((await doomedRow.textContent()) ?? '', /guest/)
  await assertLabelled('connections')
  // Filters: by protocol (Kafka hides it) and by text.
  await page.getByLabel('Protocol').selectOption('kafka')
  await page
    .getByRole('row', { name: /dash-test/ })
    .first()
    .waitFor()
  // The re-render may still be removing the AMQP rows: wait for it, then check.
  await doomedRow.waitFor({ state: 'detached' })
  assert.equal(await doomedRow.count(), 0)
  await page.getByLabel('Protocol').selectOption('amqp')
  await doomedRow.waitFor()
  await page.getByLabel(/^Filter by client/).fill('ui-clo')
  await page.getByText('1–1 of 1').waitFor()
  await shot(page, 'connections')
  // Close: a confirmation dialog, then amqplib gets connection.close 320 and the row is gone.
  await page.getByRole('button', { name: 'Close connection ui-closer' }).click()
  await page.getByRole('dialog').getByRole('button', { name: 'Close connection' }).click()
  const forced = await doomedClosed
  assert.equal(forced?.code, 320)
  await page.getByText('Closed connection ui-closer.').waitFor()
  await page.getByText('Nothing matches “ui-clo”.').waitFor()
  await amqpConnection.close()
  // The page refreshes every 5 s: both closed connections leave the listener's count.
  for (let i = 0; i < 60 && (await amqpCount.textContent()) !== '0'; i++) await page.waitForTimeout(200)
  assert.equal(await amqpCount.textContent(), '0')

  assert.deepEqual(external, [], 'the dashboard made requests outside the broker')
  assert.deepEqual(pageErrors, [], 'errors in the page')
})
