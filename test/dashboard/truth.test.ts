// "A dashboard that tells the truth" (issue 17, part 5) in Chromium against an in-process Wharf with every
// listener, with traffic from real clients (amqplib, kafkajs, mqtt.js): AMQP properties by name with internal
// headers behind a toggle, MQTT retained payloads, internal and queue streams hidden by default, tiles that
// agree with the lists, rates that count Kafka and MQTT consumers with an hour of server-side history on load,
// the name rule stated in the forms, exchanges, bindings and publishing with properties, destructive get,
// config edits and added partitions, consumers and group members, and a visible "disconnected" state while
// the broker is down that clears when it is back. Screenshots go to test/artifacts/truth-*.png.
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import amqplib from 'amqplib'
import { Kafka, logLevel } from 'kafkajs'
import mqtt from 'mqtt'
import type { Page } from 'playwright-core'
import { startAllListeners } from '../fixtures/all-listeners.ts'
import { chromiumMissing, launchChromium } from './chromium.ts'

declare const document: { querySelector(selector: string): { textContent: string | null } | null }

const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts')
const RULE = "names are 1-249 characters of letters a-z A-Z, digits, '.', '_' and '-', and not '.' or '..'"

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(ARTIFACTS, `truth-${name}.png`), fullPage: true })
const metric = async (page: Page, key: string) =>
  ((await page.locator(`[data-metric="${key}"]`).first().textContent()) ?? '').trim()

test('dashboard tells the truth: properties, internal state, rates, operations, disconnection', {
  skip: chromiumMissing,
  timeout: 120_000,
}, async (t) => {
  mkdirSync(ARTIFACTS, { recursive: true })
  const w = await startAllListeners(t)
  const { broker, base } = w

  // ---- traffic from real clients ----
  const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${w.amqp.port}`)
  t.after(() => conn.close().catch(() => {}))
  const ch = await conn.createChannel()
  await ch.assertQueue('invoices')
  ch.sendToQueue('invoices', Buffer.from('{"total":12}'), {
    contentType: 'application/json',
    deliveryMode: 2,
    correlationId: 'corr-42',
    headers: { tenant: 'acme' },
  })
  ch.sendToQueue('invoices', Buffer.from('second'))
  await ch.checkQueue('invoices')
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${w.mqtt.port}`, { clientId: 'panel', clean: false })
  t.after(() => sub.endAsync().catch(() => {}))
  await sub.subscribeAsync('plant/#', { qos: 0 })
  const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${w.mqtt.port}`, { clientId: 'thermo' })
  t.after(() => pub.endAsync().catch(() => {}))
  await pub.publishAsync('plant/boiler/temp', '71.5 C', { qos: 1, retain: true })
  const kafka = new Kafka({ clientId: 'clicker', brokers: [`127.0.0.1:${w.kafka.port}`], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'clicks', numPartitions: 2 }] })
  await admin.disconnect()
  const producer = kafka.producer()
  await producer.connect()
  t.after(() => producer.disconnect().catch(() => {}))
  const consumer = kafka.consumer({ groupId: 'click-counters', sessionTimeout: 10_000, heartbeatInterval: 500 })
  await consumer.connect()
  t.after(() => consumer.disconnect().catch(() => {}))
  await consumer.subscribe({ topic: 'clicks', fromBeginning: true })
  await consumer.run({ eachMessage: async () => {} })
  // Kafka and MQTT consumers both receive while the history fills.
  const traffic = setInterval(() => {
    void producer.send({ topic: 'clicks', messages: Array.from({ length: 10 }, () => ({ value: 'click' })) })
    void pub.publishAsync('plant/boiler/pressure', '2.1', { qos: 0 })
  }, 100)
  t.after(() => clearInterval(traffic))
  for (let i = 0; i < 100 && broker.groups.describe('click-counters').members.length === 0; i++)
    await new Promise((r) => setTimeout(r, 100))
  await new Promise((r) => setTimeout(r, 1500)) // a few server-side samples before the page opens

  const browser = await launchChromium(t)
  const page = await browser.newPage()
  const pageErrors: string[] = []
  page.on('pageerror', (error) => pageErrors.push(String(error.stack ?? error)))
  page.setDefaultTimeout(10_000)

  // ---- overview: the charts have history on load; out counts Kafka and MQTT consumers ----
  await page.goto(`${base}/#/`)
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
  const samples = Number(await page.locator('figure.chart[data-samples]').first().getAttribute('data-samples'))
  assert.ok(samples >= 3, `the rate chart opened with ${samples} samples of server-side history`)
  await page.getByText(/Message rates \(per second\): \d+ sample\(s\) since/).waitFor()
  await page.waitForFunction(() => {
    const text = document.querySelector('[data-metric="rate-out-detail"]')?.textContent ?? ''
    const kafka = /Kafka ([\d.]+)/.exec(text)
    const mqttRate = /MQTT ([\d.]+)/.exec(text)
    return kafka !== null && Number(kafka[1]) > 0 && mqttRate !== null && Number(mqttRate[1]) > 0
  })
  assert.equal(await metric(page, 'members'), '1')
  clearInterval(traffic)
  // Tiles count what the lists show by default: one plain stream (clicks), one queue (invoices).
  assert.equal(await metric(page, 'streams'), '1')
  assert.equal(await metric(page, 'queues'), '1')
  await shot(page, 'overview')

  // ---- streams: queue and internal streams hidden by default, marked when shown ----
  await page.goto(`${base}/#/streams`)
  await page.getByRole('heading', { level: 1, name: 'Streams' }).waitFor()
  await page.getByText('1–1 of 1').waitFor()
  assert.equal(await page.getByRole('link', { name: 'mqtt.retained' }).count(), 0)
  assert.equal(await page.getByRole('link', { name: 'invoices' }).count(), 0)
  await page.getByLabel('Show queue and internal streams').check()
  await page.getByRole('link', { name: 'mqtt.retained' }).waitFor()
  const retainedRow = page.locator('tbody tr', { has: page.getByRole('link', { name: 'mqtt.retained' }) })
  assert.match((await retainedRow.textContent()) ?? '', /internal: MQTT retained messages/)
  const invoicesRow = page.locator('tbody tr', { has: page.getByRole('link', { name: 'invoices', exact: true }) })
  assert.match((await invoicesRow.locator('th').textContent()) ?? '', /invoices\s*queue/)
  assert.match(page.url(), /internal=1/)
  await shot(page, 'streams-internal')
  // The name rule, stated as the API states it.
  await page.getByLabel('Name', { exact: true }).fill('../../etc')
  await page.getByRole('button', { name: 'Create stream' }).click()
  await page.getByRole('alert').getByText(`INVALID_ARGUMENT: invalid stream name "../../etc": ${RULE}`).waitFor()
  await page.getByLabel('Name', { exact: true }).fill('with space')
  await page.getByRole('button', { name: 'Create stream' }).click()
  await page.getByRole('alert').getByText(`invalid stream name "with space": ${RULE}`).waitFor()
  assert.equal(broker.getStream('../../etc'), undefined)
  await shot(page, 'name-rule')

  // ---- queue: AMQP properties by name, internal headers behind the toggle; destructive get ----
  await page.goto(`${base}/#/queues`)
  await page.getByRole('heading', { level: 1, name: 'Queues' }).waitFor()
  assert.equal(await page.getByRole('link', { name: /^mqtt\.session\./ }).count(), 0, 'MQTT session queues hidden')
  await page.getByRole('link', { name: 'invoices', exact: true }).click()
  await page.getByRole('heading', { level: 1, name: 'invoices' }).waitFor()
  await page.getByLabel('Show payload as').first().selectOption('text')
  await page.getByRole('button', { name: 'Peek messages' }).click()
  const peek = page.locator('section', { has: page.getByRole('heading', { name: 'Peek (does not consume)' }) })
  await peek.getByText('2 of 2 message(s) in the queue').waitFor()
  assert.equal(await metric(page, 'depth'), '2', 'the caption and the Total tile agree')
  const properties = peek.locator('[data-part="properties"]').first()
  const shown = (await properties.textContent()) ?? ''
  for (const line of [
    'content-type: application/json',
    'delivery-mode: 2',
    'correlation-id: corr-42',
    'headers.tenant: acme',
  ])
    assert.ok(shown.includes(line), `${line} in ${shown}`)
  assert.equal(await peek.getByText('amqp.props').count(), 0, 'the stored property bytes are hidden')
  await peek.getByLabel('Show internal headers (wharf.*)').check()
  await peek
    .getByText(/amqp\.props: /)
    .first()
    .waitFor()
  await shot(page, 'amqp-properties')
  await page.getByLabel('Ack mode').selectOption('requeue')
  await page.getByLabel('How many').last().fill('1')
  await page.getByRole('button', { name: 'Get messages' }).click()
  await page.getByRole('status').getByText('Got 1 message(s) and requeued them.').waitFor()
  assert.equal(broker.queueStats('invoices').depth, 2)
  await page.getByLabel('Ack mode').selectOption('ack')
  await page.getByLabel('How many').last().fill('2')
  await page.getByRole('button', { name: 'Get messages' }).click()
  await page.getByRole('status').getByText('Got and acked 2 message(s): removed from invoices.').waitFor()
  assert.equal(broker.queueStats('invoices').depth, 0)
  await page.waitForFunction(() => document.querySelector('[data-metric="depth"]')?.textContent === '0')
  await shot(page, 'get')

  // ---- MQTT: retained payloads ----
  await page.goto(`${base}/#/mqtt`)
  await page.getByRole('heading', { level: 1, name: 'MQTT' }).waitFor()
  const boiler = page.getByRole('row', { name: /plant\/boiler\/temp/ })
  await boiler.getByText('71.5 C').waitFor()
  await shot(page, 'mqtt-retained')

  // ---- exchanges: create, bind, publish with properties (an amqplib consumer gets them) ----
  await page.goto(`${base}/#/exchanges`)
  await page.getByRole('heading', { level: 1, name: 'Exchanges' }).waitFor()
  await page.getByLabel('Name', { exact: true }).fill('bad name')
  await page.getByRole('button', { name: 'Create exchange' }).click()
  await page.getByRole('alert').getByText(`invalid exchange name "bad name": ${RULE}`).waitFor()
  await page.getByLabel('Name', { exact: true }).fill('billing')
  await page.getByLabel('Type').selectOption('topic')
  await page.getByRole('button', { name: 'Create exchange' }).click()
  await page.getByRole('status').getByText('Created exchange billing.').waitFor()
  assert.equal(broker.router.getExchange('billing')?.type, 'topic')
  await page.getByRole('link', { name: 'billing', exact: true }).click()
  await page.getByRole('heading', { level: 1, name: 'billing' }).waitFor()
  await page.getByLabel('Destination kind').selectOption('queue')
  await page.getByLabel('Destination name').fill('invoices')
  await page.getByLabel('Routing key').first().fill('invoice.*')
  await page.getByRole('button', { name: 'Bind' }).click()
  await page.getByRole('status').getByText('Bound queue invoices to billing.').waitFor()
  await page.getByRole('cell', { name: 'invoice.*' }).waitFor()
  const publishPanel = page.locator('section', { has: page.getByRole('heading', { name: 'Publish a message' }) })
  await publishPanel.getByLabel('Routing key').fill('invoice.paid')
  await publishPanel.getByLabel('content-type').fill('text/plain')
  await publishPanel.getByLabel('delivery-mode').selectOption('2')
  await publishPanel.getByLabel('correlation-id').fill('from-ui')
  await publishPanel.getByLabel('Headers table (one “name: value” per line)').fill('x-source: dashboard')
  await publishPanel.getByLabel('Payload').fill('paid in full')
  await publishPanel.getByRole('button', { name: 'Publish' }).click()
  await page.getByRole('status').getByText('Published to billing; routed to 1 destination(s).').waitFor()
  const delivered = await ch.get('invoices', { noAck: true })
  assert.ok(delivered)
  assert.equal(delivered.content.toString(), 'paid in full')
  assert.equal(delivered.fields.exchange, 'billing')
  assert.equal(delivered.fields.routingKey, 'invoice.paid')
  assert.equal(delivered.properties.contentType, 'text/plain')
  assert.equal(delivered.properties.deliveryMode, 2)
  assert.equal(delivered.properties.correlationId, 'from-ui')
  assert.deepEqual(delivered.properties.headers, { 'x-source': 'dashboard' })
  await shot(page, 'exchange')

  // ---- stream: consumers with members, config edit and added partitions; group members ----
  await page.goto(`${base}/#/streams/clicks`)
  await page.getByRole('heading', { level: 1, name: 'clicks' }).waitFor()
  const consumersPanel = page.locator('section', { has: page.getByRole('heading', { name: 'Consumers' }) })
  await consumersPanel.getByRole('link', { name: 'click-counters' }).waitFor()
  assert.match((await consumersPanel.textContent()) ?? '', /clicker \([^)]*127\.0\.0\.1\) · partitions 0, 1/)
  await page.getByLabel('Partitions (can only grow)').fill('4')
  await page.getByLabel('Retention (hours, -1 = forever)').last().fill('2')
  await page.getByRole('button', { name: 'Save configuration' }).click()
  await page.getByRole('status').getByText('Saved the configuration of clicks (4 partition(s)).').waitFor()
  assert.equal(broker.stream('clicks').partitions.length, 4)
  assert.equal(broker.stream('clicks').config.retentionMs, 2 * 3600_000)
  assert.equal(await page.locator('table').first().locator('tbody tr').count(), 4)
  await page.getByLabel('Partitions (can only grow)').fill('1')
  await page.getByRole('button', { name: 'Save configuration' }).click()
  await page
    .getByRole('alert')
    .getByText(/partitions can only grow/)
    .waitFor()
  await shot(page, 'stream-config')
  await page.goto(`${base}/#/groups/click-counters`)
  await page.getByRole('heading', { level: 1, name: 'click-counters' }).waitFor()
  await page.getByRole('row', { name: /^clicker/ }).waitFor()
  assert.match((await page.getByRole('row', { name: /^clicker/ }).textContent()) ?? '', /clicks: 0, 1/)
  await shot(page, 'group-members')

  // ---- disconnected: the broker stops, the page says so; it comes back and the page recovers ----
  await page.goto(`${base}/#/queues`)
  await page.getByRole('heading', { level: 1, name: 'Queues' }).waitFor()
  await consumer.disconnect()
  await producer.disconnect()
  await conn.close()
  await sub.endAsync()
  await pub.endAsync()
  await w.stop()
  const banner = page.locator('#connection')
  await banner.getByText('Disconnected').waitFor({ timeout: 15_000 })
  assert.match((await banner.textContent()) ?? '', /does not answer\. Figures below are from .*; retrying every 2 s\./)
  await shot(page, 'disconnected')
  await w.start()
  await banner.waitFor({ state: 'hidden', timeout: 15_000 })
  await page.getByRole('status').getByText('Reconnected to the broker.').waitFor()
  // The list is live again: a queue made on the restarted broker appears without a reload.
  await w.broker.createQueue('after-restart')
  await page.getByRole('link', { name: 'after-restart' }).waitFor({ timeout: 15_000 })
  await shot(page, 'reconnected')
  assert.deepEqual(pageErrors, [], 'errors in the page')
})

test('overview of a broker with no rate history yet: the time axis shows the last hour, not the epoch', {
  skip: chromiumMissing,
  timeout: 60_000,
}, async (t) => {
  const w = await startAllListeners(t, 60_000) // no sample for a minute: the charts open empty
  const browser = await launchChromium(t)
  const page = await browser.newPage()
  await page.goto(`${w.base}/#/`)
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
  const figure = page.locator('figure.chart[data-x-ticks]').first()
  await figure.waitFor()
  const ticks = JSON.parse((await figure.getAttribute('data-x-ticks')) ?? '[]') as number[]
  const now = Date.now() / 1000
  assert.ok(ticks.length > 0, 'the axis has ticks')
  for (const tick of ticks) assert.ok(tick > now - 2 * 3600 && tick < now + 60, `tick ${tick} is within the last hour`)
  assert.equal(await page.locator('[data-metric="rate-in"]').textContent(), '…', 'no rate is made up')
  await shot(page, 'overview-empty')
})
