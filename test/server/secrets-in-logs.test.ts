// Failed and successful logins on every protocol, against a real `wharf start` logging at debug: the log
// names each refusal with its protocol and peer, and never contains a password, a SCRAM proof's password or
// an access-key secret.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs'
import amqp from 'amqplib'
import { Kafka, logLevel } from 'kafkajs'
import mqtt from 'mqtt'
import { startSpawned } from '../fixtures/spawned-wharf.ts'

const GOOD = 'Good-S3cret-alice'
const WRONG = 'Wrong-S3cret-guess'
const AWS_SECRET = 'Aws-S3cret-alice-key'

test('logins on every protocol are logged without a secret', async (t) => {
  const { wharf, ports } = await startSpawned(t, ['kafka', 'amqp', 'mqtt', 'http'], {
    args: [
      '--log-level',
      'debug',
      '--anonymous',
      'false',
      '--users',
      JSON.stringify([
        {
          name: 'alice',
          password: GOOD,
          tags: ['administrator'],
          accessKeys: [{ id: 'AKIDALICE', secret: AWS_SECRET }],
        },
      ]),
    ],
  })

  for (const password of [WRONG, GOOD]) {
    const amqpLogin = amqp.connect(`amqp://alice:${password}@127.0.0.1:${ports.amqp}`)
    if (password === WRONG) await assert.rejects(amqpLogin)
    else await (await amqpLogin).close()

    const mqttLogin = mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, {
      username: 'alice',
      password,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    })
    if (password === WRONG) await assert.rejects(mqttLogin)
    else await (await mqttLogin).endAsync()

    const kafka = new Kafka({
      brokers: [`127.0.0.1:${ports.kafka}`],
      sasl: { mechanism: 'scram-sha-256', username: 'alice', password },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).admin()
    if (password === WRONG) await assert.rejects(kafka.connect())
    else {
      await kafka.connect()
      await kafka.disconnect()
    }

    const basic = Buffer.from(`alice:${password}`).toString('base64')
    const http = await fetch(`http://127.0.0.1:${ports.http}/api/v1/overview`, {
      headers: { authorization: `Basic ${basic}` },
    })
    assert.equal(http.status, password === WRONG ? 401 : 200)
  }
  const sqs = (secret: string) =>
    new SQSClient({
      endpoint: `http://127.0.0.1:${ports.http}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDALICE', secretAccessKey: secret },
      maxAttempts: 1,
    })
  await assert.rejects(sqs(WRONG).send(new ListQueuesCommand({})), /SignatureDoesNotMatch|signature/i)
  await sqs(AWS_SECRET).send(new ListQueuesCommand({}))

  const log = wharf.output()
  for (const secret of [GOOD, WRONG, AWS_SECRET]) assert.equal(log.includes(secret), false, 'no secret in the log')
  for (const protocol of ['amqp', 'mqtt', 'kafka', 'http'])
    assert.match(
      log,
      new RegExp(
        `"protocol":"${protocol}".*"peer":"127\\.0\\.0\\.1:\\d+".*login refused|login refused.*"protocol":"${protocol}"`,
      ),
      `${protocol} refusal logged`,
    )
})
