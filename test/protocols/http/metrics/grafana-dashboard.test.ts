// The Grafana dashboard in examples/grafana/ against a live /metrics: a `wharf start` child gets real
// traffic (kafkajs produce + group consume, amqplib confirmed publishes + consume with ack and a requeue,
// mqtt.js QoS 1, AWS SDK SQS send/receive/visibility 0/delete and SNS publish, a refused AMQP login), then
// every PromQL expression of the dashboard is parsed and each metric it names must be in the scrape, with the
// labels it filters and groups by; every counter it uses must have moved since a scrape taken before the
// traffic. The naming conventions (counters typed counter and named *_total, build info) are checked on the
// whole scrape.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { CreateTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns'
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import amqp from 'amqplib'
import { Kafka, logLevel } from 'kafkajs'
import mqtt from 'mqtt'
import { startSpawned } from '../../../fixtures/spawned-wharf.ts'
import { type ParsedQuery, parseExposition, parseQuery, type Scrape, total } from './promql.ts'

const dashboardPath = new URL('../../../../examples/grafana/wharf.json', import.meta.url)
/** Labels Prometheus adds to every series of a target; a raw /metrics scrape never has them. */
const TARGET_LABELS = new Set(['instance', 'job'])

/** Every PromQL query of the dashboard: panel targets (rows included) and template variables. */
function dashboardQueries(): string[] {
  const dashboard = JSON.parse(readFileSync(dashboardPath, 'utf8'))
  const out: string[] = []
  const visit = (panels: Array<Record<string, unknown>>) => {
    for (const panel of panels) {
      for (const target of (panel.targets as Array<{ expr?: string }> | undefined) ?? [])
        if (typeof target.expr === 'string') out.push(target.expr)
      visit((panel.panels as Array<Record<string, unknown>> | undefined) ?? [])
    }
  }
  visit(dashboard.panels)
  for (const variable of dashboard.templating?.list ?? []) {
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query
    if (variable.type === 'query' && typeof query === 'string') out.push(query)
  }
  return out
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function scrape(port: number): Promise<Scrape> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`)
  assert.equal(response.status, 200)
  return parseExposition(await response.text())
}

async function until(what: string, done: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

/** The metric family a sample name belongs to (histogram series share their family's TYPE line). */
function familyOf(scrape: Scrape, name: string): string {
  for (const suffix of ['_bucket', '_sum', '_count'])
    if (name.endsWith(suffix) && scrape.types.get(name.slice(0, -suffix.length)) === 'histogram')
      return name.slice(0, -suffix.length)
  return name
}

test('the PromQL reader finds metrics, matchers and grouping labels, and rejects unknown functions', () => {
  const parsed: ParsedQuery = parseQuery(
    'histogram_quantile(0.99, sum by (protocol, le) (rate(wharf_x_bucket{instance=~"$instance"}[$__rate_interval]))) / ignoring(le) wharf_y',
  )
  assert.deepEqual(
    parsed.selectors.map((s) => s.metric),
    ['wharf_x_bucket', 'wharf_y'],
  )
  assert.deepEqual(parsed.selectors[0]!.labels, ['instance'])
  assert.deepEqual(parsed.grouping, ['protocol', 'le', 'le'])
  assert.deepEqual(parseQuery('label_values(wharf_build_info, instance)').grouping, ['instance'])
  assert.throws(() => parseQuery('sume(rate(wharf_x_total[1m]))'), /unknown PromQL function 'sume'/)
  assert.ok(dashboardQueries().length >= 20, 'the dashboard walk sees the panels')
})

test('every metric and label of the Grafana dashboard exists in a live /metrics, and its counters move under real traffic', {
  timeout: 120_000,
}, async (t) => {
  // fsync always, as `wharf start` defaults to: the fsync histogram must move.
  const { ports } = await startSpawned(t, ['kafka', 'amqp', 'mqtt', 'http'], { args: ['--durability', 'always'] })
  const before = await scrape(ports.http)

  // Kafka: 20 records with acks=all, consumed by a group; then 5 more after it leaves (lag 5).
  const kafka = new Kafka({ brokers: [`127.0.0.1:${ports.kafka}`], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'metrics-orders', numPartitions: 2 }] })
  await admin.disconnect()
  const producer = kafka.producer()
  await producer.connect()
  const send = (from: number, n: number) =>
    producer.send({
      topic: 'metrics-orders',
      acks: -1,
      messages: Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: `order ${from + i}` })),
    })
  await send(0, 20)
  const consumer = kafka.consumer({ groupId: 'metrics-group' })
  await consumer.connect()
  await consumer.subscribe({ topic: 'metrics-orders', fromBeginning: true })
  let consumed = 0
  await consumer.run({
    eachMessage: async () => {
      consumed++
    },
  })
  await until('kafka consumption', () => consumed === 20)
  await consumer.disconnect() // commits what it consumed
  await send(20, 5)
  await producer.disconnect()

  // AMQP: 10 confirmed publishes; consumed with acks, one nacked with requeue (then redelivered and acked);
  // 3 more left ready. The connection stays open for the connection and channel gauges.
  const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${ports.amqp}`)
  const publish = await connection.createConfirmChannel()
  await publish.assertQueue('metrics-jobs', { durable: true })
  for (let i = 0; i < 10; i++) publish.sendToQueue('metrics-jobs', Buffer.from(`job ${i}`), { persistent: true })
  await publish.waitForConfirms()
  const consume = await connection.createChannel()
  await consume.prefetch(20)
  let acked = 0
  let requeued = false
  const { consumerTag } = await consume.consume('metrics-jobs', (message) => {
    if (message === null) return
    if (!requeued) {
      requeued = true
      consume.nack(message, false, true)
      return
    }
    consume.ack(message)
    acked++
  })
  await until('amqp consumption', () => acked === 10)
  await consume.cancel(consumerTag)
  for (let i = 0; i < 3; i++) publish.sendToQueue('metrics-jobs', Buffer.from(`late ${i}`), { persistent: true })
  await publish.waitForConfirms()
  await assert.rejects(amqp.connect(`amqp://guest:wrong@127.0.0.1:${ports.amqp}`), /ACCESS_REFUSED|403/)

  // MQTT: 10 QoS 1 publishes to a QoS 1 subscriber.
  const subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, { clientId: 'metrics-sub' })
  let received = 0
  subscriber.on('message', () => received++)
  await subscriber.subscribeAsync('metrics/#', { qos: 1 })
  const publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, { clientId: 'metrics-pub' })
  await Promise.all(Array.from({ length: 10 }, (_, i) => publisher.publishAsync(`metrics/${i}`, `m${i}`, { qos: 1 })))
  await until('mqtt delivery', () => received === 10)

  // SQS: 3 sent, received and deleted; the first receipt is handed back first (visibility 0).
  const aws = {
    endpoint: `http://127.0.0.1:${ports.http}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  }
  const sqs = new SQSClient(aws)
  t.after(() => sqs.destroy())
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'metrics-sqs' }))
  for (let i = 0; i < 3; i++) await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: `s${i}` }))
  let deleted = 0
  let handedBack = false
  while (deleted < 3) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    )
    for (const m of Messages) {
      if (!handedBack) {
        handedBack = true
        await sqs.send(
          new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 }),
        )
        continue
      }
      await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle! }))
      deleted++
    }
  }
  // SNS: 2 publishes to a topic.
  const sns = new SNSClient(aws)
  t.after(() => sns.destroy())
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'metrics-events' }))
  for (let i = 0; i < 2; i++) await sns.send(new PublishCommand({ TopicArn, Message: `event ${i}` }))
  // PUBACKs and basic.acks settle asynchronously in the broker: wait until its counters show them.
  let after = await scrape(ports.http)
  for (let i = 0; i < 100; i++) {
    const amqpAcks = total(after, 'wharf_messages_acknowledged_total', { protocol: 'amqp' })
    const mqttAcks = total(after, 'wharf_messages_acknowledged_total', { protocol: 'mqtt' })
    if (amqpAcks >= 10 && mqttAcks >= 10) break
    await sleep(50)
    after = await scrape(ports.http)
  }

  // Conventions on the whole scrape; prom-client's process metrics (wharf_process_*, wharf_nodejs_*) are
  // kept as that library names them (its wharf_nodejs_active_resources_total is a gauge).
  for (const [family, type] of after.types) {
    if (!family.startsWith('wharf_') || /^wharf_(process|nodejs)_/.test(family)) continue
    if (family.endsWith('_total')) assert.equal(type, 'counter', `${family} is named _total but typed ${type}`)
    if (type === 'counter') assert.ok(family.endsWith('_total'), `counter ${family} is not named _total`)
  }
  const build = after.samples.get('wharf_build_info')?.[0]
  assert.equal(build?.value, 1)
  assert.match(build?.labels.version ?? '', /^\d+\.\d+\.\d+/)
  assert.equal(build?.labels.node_version, process.version)

  // Every metric and label the dashboard uses exists; every counter and histogram it uses moved.
  const queries = dashboardQueries()
  for (const expr of queries) {
    const { selectors, grouping } = parseQuery(expr)
    assert.ok(selectors.length > 0, `no metric in ${expr}`)
    const labelsSeen = new Set<string>()
    for (const { metric, labels } of selectors) {
      const samples = after.samples.get(metric)
      assert.ok(samples !== undefined && samples.length > 0, `${metric} (used by ${expr}) is not in /metrics`)
      for (const s of samples) for (const l of Object.keys(s.labels)) labelsSeen.add(l)
      for (const label of labels)
        if (!TARGET_LABELS.has(label))
          assert.ok(labelsSeen.has(label), `${metric} has no label '${label}' (matched in ${expr})`)
      const family = familyOf(after, metric)
      const type = after.types.get(family)
      if (type === 'counter' || (type === 'histogram' && metric.endsWith('_count')))
        assert.ok(total(after, metric) > total(before, metric), `${metric} did not move under traffic (${expr})`)
      if (type === 'histogram' && metric.endsWith('_bucket'))
        assert.ok(
          total(after, `${family}_count`) > total(before, `${family}_count`),
          `${family} observed nothing under traffic (${expr})`,
        )
    }
    for (const label of grouping)
      if (!TARGET_LABELS.has(label)) assert.ok(labelsSeen.has(label), `no metric of ${expr} has the label '${label}'`)
  }

  // Histograms are Prometheus-shaped: per series, cumulative buckets by ascending le, ending in +Inf = _count.
  for (const family of ['wharf_publish_to_confirm_seconds', 'wharf_storage_fsync_seconds']) {
    assert.equal(after.types.get(family), 'histogram')
    const series = new Map<string, Array<{ le: string; value: number }>>()
    for (const { labels, value } of after.samples.get(`${family}_bucket`) ?? []) {
      const { le, ...rest } = labels
      const key = JSON.stringify(rest)
      series.set(key, [...(series.get(key) ?? []), { le: le!, value }])
    }
    assert.ok(series.size > 0, `${family} has buckets`)
    for (const [key, buckets] of series) {
      const bounds = buckets.map((b) => (b.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(b.le)))
      assert.deepEqual(
        bounds,
        [...bounds].sort((x, y) => x - y),
        `${family}${key}: le ascending`,
      )
      assert.equal(buckets.at(-1)!.le, '+Inf')
      for (let i = 1; i < buckets.length; i++)
        assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, `${family}${key}: cumulative`)
      assert.equal(
        buckets.at(-1)!.value,
        total(after, `${family}_count`, JSON.parse(key)),
        `${family}${key}: +Inf = _count`,
      )
    }
  }

  // Per protocol, the traffic above is what the counters say.
  for (const protocol of ['kafka', 'amqp', 'mqtt', 'sqs', 'sns']) {
    const moved = (name: string) => total(after, name, { protocol }) - total(before, name, { protocol })
    assert.ok(moved('wharf_messages_received_total') > 0, `${protocol}: messages received`)
    assert.ok(moved('wharf_messages_received_bytes_total') > 0, `${protocol}: bytes received`)
    if (protocol !== 'sns') assert.ok(moved('wharf_messages_delivered_total') > 0, `${protocol}: messages delivered`)
    assert.ok(moved('wharf_publish_to_confirm_seconds_count') > 0, `${protocol}: publish-to-confirm observed`)
  }
  assert.equal(total(after, 'wharf_messages_received_total', { protocol: 'kafka' }), 25)
  assert.equal(total(after, 'wharf_messages_received_total', { protocol: 'amqp' }), 13)
  assert.equal(total(after, 'wharf_messages_received_total', { protocol: 'mqtt' }), 10)
  assert.equal(total(after, 'wharf_messages_received_total', { protocol: 'sqs' }), 3)
  assert.equal(total(after, 'wharf_messages_received_total', { protocol: 'sns' }), 2)
  assert.equal(total(after, 'wharf_messages_requeued_total', { protocol: 'sqs' }), 1)
  assert.equal(total(after, 'wharf_messages_redelivered_total', { protocol: 'sqs' }), 1)
  assert.equal(total(after, 'wharf_messages_acknowledged_total', { protocol: 'amqp' }), 10)
  assert.equal(total(after, 'wharf_messages_acknowledged_total', { protocol: 'sqs' }), 3)
  assert.equal(total(after, 'wharf_messages_requeued_total', { protocol: 'amqp' }), 1)
  assert.equal(total(after, 'wharf_messages_redelivered_total', { protocol: 'amqp' }), 1)
  assert.equal(total(after, 'wharf_auth_failures_total', { protocol: 'amqp', mechanism: 'PLAIN' }), 1)
  assert.equal(total(after, 'wharf_queue_messages_ready', { queue: 'metrics-jobs' }), 3)
  assert.equal(total(after, 'wharf_consumer_group_lag', { group: 'metrics-group', topic: 'metrics-orders' }), 5)
  assert.ok(total(after, 'wharf_storage_fsync_seconds_count') > total(before, 'wharf_storage_fsync_seconds_count'))
  assert.equal(total(after, 'wharf_connections', { protocol: 'amqp' }), 1)
  assert.equal(total(after, 'wharf_channels', { protocol: 'amqp' }), 2)
  assert.equal(total(after, 'wharf_connections', { protocol: 'mqtt' }), 2)
  assert.equal(total(after, 'wharf_alarm'), 0)
  assert.equal(total(after, 'wharf_connections_blocked'), 0)

  await connection.close()
  await publisher.endAsync()
  await subscriber.endAsync()
})
