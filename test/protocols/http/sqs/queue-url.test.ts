// Queue URLs never come from the request's Host header (the client writes it; a forged one would make the
// broker hand out URLs pointing at another server, where the SDK then sends its next requests): they come from
// the configured sqsBaseUrl, else the address and port the request came in on.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { startHttpListener } from '../../../../src/protocols/http/listener.ts'
import { loadConfig } from '../../../../src/server/config.ts'
import { silentLogger } from '../../../../src/util/logger.ts'
import { createTestBroker } from '../../../fixtures/test-storage.ts'

async function start(t: TestContext, sqsBaseUrl?: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-sqs-url-'))
  const broker = await createTestBroker({ dataDir: dir, durability: 'never' })
  const listener = await startHttpListener({
    broker,
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    ...(sqsBaseUrl === undefined ? {} : { config: { sqsBaseUrl } }),
  })
  t.after(async () => {
    await listener.close()
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return listener.port
}

/** One POST / with a forged Host header (fetch cannot set Host; node:http can). */
function post(port: number, headers: Record<string, string>, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const json = (action: string) => ({
  host: 'evil.example.com:666',
  'content-type': 'application/x-amz-json-1.0',
  'x-amz-target': `AmazonSQS.${action}`,
})
const form = { host: 'evil.example.com:666', 'content-type': 'application/x-www-form-urlencoded' }

test('a forged Host header does not leak into QueueUrl (JSON and query protocol)', async (t) => {
  const port = await start(t)
  const created = JSON.parse(await post(port, json('CreateQueue'), JSON.stringify({ QueueName: 'orders' })))
  assert.equal(created.QueueUrl, `http://127.0.0.1:${port}/000000000000/orders`)
  const got = JSON.parse(await post(port, json('GetQueueUrl'), JSON.stringify({ QueueName: 'orders' })))
  assert.equal(got.QueueUrl, `http://127.0.0.1:${port}/000000000000/orders`)
  const listed = JSON.parse(await post(port, json('ListQueues'), '{}'))
  assert.deepEqual(listed.QueueUrls, [`http://127.0.0.1:${port}/000000000000/orders`])
  const xml = await post(port, form, 'Action=GetQueueUrl&QueueName=orders&Version=2012-11-05')
  assert.match(xml, new RegExp(`<QueueUrl>http://127.0.0.1:${port}/000000000000/orders</QueueUrl>`))
  assert.doesNotMatch(xml, /evil/)
})

test('sqsBaseUrl sets the queue URL base whatever the Host header says', async (t) => {
  const port = await start(t, 'https://sqs.example.net/')
  const created = JSON.parse(await post(port, json('CreateQueue'), JSON.stringify({ QueueName: 'orders' })))
  assert.equal(created.QueueUrl, 'https://sqs.example.net/000000000000/orders')
})

test('sqsBaseUrl is a config key (flag, environment, file) and must be an http(s) URL', () => {
  assert.equal(loadConfig({ env: {} }).sqsBaseUrl, '')
  assert.equal(
    loadConfig({ env: { WHARF_SQS_BASE_URL: 'http://broker.lan:8080' } }).sqsBaseUrl,
    'http://broker.lan:8080',
  )
  assert.throws(
    () => loadConfig({ env: { WHARF_SQS_BASE_URL: 'ftp://x' } }),
    /--sqs-base-url \(WHARF_SQS_BASE_URL, "sqsBaseUrl" in a config file\) must be an http\(s\) URL/,
  )
})
