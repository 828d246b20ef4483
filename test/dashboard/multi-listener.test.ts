// The dashboard pages fed by the AMQP and MQTT listeners, in a real browser (Debian's Chromium through
// playwright-core): the alarm banner and the MQTT page, against an in-process Wharf (HTTP + AMQP + MQTT
// listeners, one alarm monitor with an injected disk reader).
// Traffic: amqplib publishes (and gets blocked), mqtt.js holds a persistent session and retains a message.
// Screenshots go to test/artifacts/alarms-*.png and mqtt.png.
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import amqplib from 'amqplib'
import mqtt from 'mqtt'
import { startAlarmedWharf } from '../fixtures/alarmed-wharf.ts'
import { chromiumMissing, launchChromium } from './chromium.ts'

const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts')

test('dashboard in Chromium: alarm banner on every page, Overview card, MQTT sessions and retained', {
  skip: chromiumMissing,
  timeout: 60_000,
}, async (t) => {
  mkdirSync(ARTIFACTS, { recursive: true })
  const { alarms, disk, base, amqpPort, mqttPort } = await startAlarmedWharf(t, {
    prefix: 'wharf-dash-alarm-',
    limitBytes: 50 * 1024 * 1024,
    freeBytes: 1_000_000_000,
  })

  // ---- real traffic ----
  const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${amqpPort}`)
  t.after(() => conn.close().catch(() => {}))
  const ch = await conn.createChannel()
  await ch.assertQueue('work')
  ch.sendToQueue('work', Buffer.from('job'))
  await ch.checkQueue('work')
  const sensor = await mqtt.connectAsync({
    host: '127.0.0.1',
    port: mqttPort,
    clientId: 'dash-sensor',
    clean: false,
    reconnectPeriod: 0,
  })
  t.after(() => sensor.end(true))
  await sensor.subscribeAsync('greenhouse/#', { qos: 1 })
  await sensor.publishAsync('greenhouse/humidity', '{"rh":61}', { qos: 1, retain: true })

  // ---- browser ----
  const browser = await launchChromium(t)
  const page = await browser.newPage()
  const pageErrors: string[] = []
  page.on('pageerror', (error) => pageErrors.push(String(error.stack ?? error)))
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text())
  })
  page.setDefaultTimeout(10_000)
  const banner = page.locator('#alarms')

  // No alarm: no banner, the Overview card says so.
  await page.goto(`${base}/#/`)
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
  await page.locator('[data-metric="alarms"]', { hasText: 'none' }).waitFor()
  assert.equal(await banner.isVisible(), false)

  // Disk alarm: the banner appears (next poll) and the card names it with the blocked publisher count.
  disk.free = 10 * 1024 * 1024
  await alarms.check()
  ch.sendToQueue('work', Buffer.from('held')) // already a publisher: stays blocked
  // The MQTT sensor has published too: it is no longer read either.
  await page.reload()
  await banner.locator('[data-alarm="disk"]').waitFor()
  assert.match((await banner.textContent()) ?? '', /Alarm \(disk\): low on disk space: 10\.0 MiB free, limit 50\.0 MiB/)
  assert.match((await banner.textContent()) ?? '', /2 publishing connections are blocked/)
  await page.locator('[data-metric="alarms"]', { hasText: 'disk (2 blocked)' }).waitFor()
  await page.screenshot({ path: join(ARTIFACTS, 'alarms-overview.png'), fullPage: true })

  // MQTT page (reached through the nav): the banner is there too; the persistent session and the retained message are listed.
  await page.getByRole('link', { name: 'MQTT', exact: true }).click()
  await page.getByRole('heading', { level: 1, name: 'MQTT' }).waitFor()
  assert.equal(await banner.isVisible(), true)
  const sessionRow = page.locator('tr', { hasText: 'dash-sensor' })
  await sessionRow.waitFor()
  assert.match((await sessionRow.textContent()) ?? '', /connected/)
  assert.match((await sessionRow.textContent()) ?? '', /greenhouse\/# \(QoS 1\)/)
  const retainedRow = page.locator('tr', { hasText: 'greenhouse/humidity' })
  await retainedRow.waitFor()
  assert.match((await retainedRow.textContent()) ?? '', /9 B/)
  await page.screenshot({ path: join(ARTIFACTS, 'mqtt.png'), fullPage: true })

  // Cleared: the banner goes away by itself (polling), without a reload.
  disk.free = 1_000_000_000
  await alarms.check()
  await banner.waitFor({ state: 'hidden', timeout: 12_000 })
  assert.deepEqual(pageErrors, [])
})
