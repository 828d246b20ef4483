// What `wharf start` tells its operator, read from the child process's own output: connection lifecycle,
// refused logins, protocol errors and topology changes (driven by amqplib, mqtt.js and raw sockets), JSON
// lines that all parse with the start banner among them, the pretty format, and the messages of a start
// that cannot happen (a port in use, bad values).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import amqp from 'amqplib'
import { Kafka, logLevel } from 'kafkajs'
import mqtt from 'mqtt'
import { usableUrls } from '../../src/server/addresses.ts'
import { createLogger, prettyLine } from '../../src/util/logger.ts'
import { wharfVersion } from '../../src/util/version.ts'
import { freePort, spawnWharf, type WharfProcess } from '../fixtures/wharf-process.ts'

interface Started {
  wharf: WharfProcess
  dataDir: string
  ports: { amqp: number; mqtt: number; http: number; kafka: number }
  /** Everything the process wrote to stdout so far (not stderr). */
  stdout: () => string
}

function tempDir(t: TestContext): string {
  const root = mkdtempSync(join(tmpdir(), 'wharf-logs-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  return root
}

async function start(t: TestContext, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Started> {
  const dataDir = join(tempDir(t), 'data')
  const ports = { amqp: await freePort(), mqtt: await freePort(), http: await freePort(), kafka: await freePort() }
  const wharf = spawnWharf(
    [
      '--data-dir',
      dataDir,
      '--durability',
      'never',
      ...['--amqp-port', String(ports.amqp), '--mqtt-port', String(ports.mqtt), '--http-port', String(ports.http)],
      ...['--kafka-port', String(ports.kafka)],
      ...args,
    ],
    env,
  )
  let stdout = ''
  wharf.proc.stdout!.on('data', (chunk) => {
    stdout += chunk
  })
  t.after(async () => {
    if (wharf.proc.exitCode !== null || wharf.proc.signalCode !== null) return
    wharf.proc.kill('SIGTERM')
    const timer = setTimeout(() => wharf.proc.kill('SIGKILL'), 10_000)
    await wharf.exit
    clearTimeout(timer)
  })
  await wharf.ready
  return { wharf, dataDir, ports, stdout: () => stdout }
}

/** The JSON log records on stdout so far; every line must be one. */
function records(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      let record: Record<string, unknown> = {}
      assert.doesNotThrow(() => {
        record = JSON.parse(line)
      }, `a stdout line that is not JSON: ${line}`)
      return record
    })
}

/** Waits (up to 10 s) for a record matching `match`, and returns it. */
async function logged(
  s: Started,
  what: string,
  match: (r: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const found = records(s.stdout()).find(match)
    if (found !== undefined) return found
    if (Date.now() > deadline) assert.fail(`no log line for ${what} in:\n${s.stdout()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Writes bytes on a raw socket and waits for the server to close it. */
function sendGarbage(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes))
    socket.on('data', () => {})
    socket.on('error', () => resolve())
    socket.on('close', () => resolve())
  })
}

const WARN = 40
const INFO = 30

test('json lines: banner fields, refused login, protocol errors, connection open/close and topology changes', async (t) => {
  const s = await start(t, ['--log-format', 'json'])
  const banner = await logged(s, 'the banner', (r) => r.msg === 'wharf ready')
  assert.equal(banner.version, wharfVersion)
  assert.equal(banner.dataDir, s.dataDir)
  assert.equal(banner.dashboard, `http://127.0.0.1:${s.ports.http}/`)
  assert.ok(Array.isArray(banner.urls) && banner.urls.includes(`amqp://127.0.0.1:${s.ports.amqp}`), 'listener URLs')

  // A wrong password (amqplib): the refusal at warn with the peer and the user.
  await assert.rejects(amqp.connect(`amqp://guest:wrong@127.0.0.1:${s.ports.amqp}`), /ACCESS.REFUSED/)
  const refused = await logged(s, 'the refused login', (r) => r.msg === 'amqp login refused')
  assert.equal(refused.level, WARN)
  assert.equal(refused.user, 'guest')
  assert.match(String(refused.peer), /^127\.0\.0\.1:\d+$/)

  // Garbage on the AMQP port: a protocol error at warn saying what was answered.
  await sendGarbage(s.ports.amqp, Buffer.from('GET / HTTP/1.1\r\n\r\n'))
  const amqpError = await logged(s, 'the AMQP protocol error', (r) => r.msg === 'amqp protocol error')
  assert.equal(amqpError.level, WARN)
  assert.match(String(amqpError.reason), /not an AMQP 0-9-1 protocol header/)

  // An MQTT client whose first packet is not CONNECT (a PINGREQ).
  await sendGarbage(s.ports.mqtt, Buffer.from([0xc0, 0x00]))
  const mqttError = await logged(s, 'the MQTT protocol error', (r) => r.msg === 'mqtt protocol error')
  assert.equal(mqttError.level, WARN)
  assert.match(String(mqttError.reason), /first packet must be CONNECT/)

  // A working client: opened (with user and client), topology changes, a channel error, a clean close.
  const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${s.ports.amqp}`)
  const opened = await logged(s, 'the AMQP open', (r) => r.msg === 'amqp connection opened')
  assert.equal(opened.level, INFO)
  assert.equal(opened.user, 'guest')
  assert.equal(opened.client, 'amqplib')
  const channel = await connection.createChannel()
  await channel.assertExchange('orders-x', 'topic', { durable: true })
  await channel.assertQueue('orders', { durable: true })
  await channel.bindQueue('orders', 'orders-x', 'order.#')
  await channel.deleteQueue('orders')
  await logged(s, 'the exchange', (r) => r.msg === 'exchange created' && r.exchange === 'orders-x')
  await logged(s, 'the queue', (r) => r.msg === 'queue created' && r.queue === 'orders')
  await logged(s, 'the binding', (r) => r.msg === 'binding created' && r.source === 'orders-x' && r.key === 'order.#')
  await logged(s, 'the queue delete', (r) => r.msg === 'queue deleted' && r.queue === 'orders')
  const broken = await connection.createChannel()
  broken.on('error', () => {})
  await assert.rejects(broken.checkQueue('missing'), /404/)
  const channelError = await logged(
    s,
    'the channel error',
    (r) => r.msg === 'amqp protocol error' && /channel.close 404 NOT_FOUND/.test(String(r.reason)),
  )
  assert.equal(channelError.connection, opened.connection)
  await connection.close()
  const closed = await logged(
    s,
    'the AMQP close',
    (r) => r.msg === 'amqp connection closed' && r.connection === opened.connection,
  )
  assert.equal(closed.level, INFO)
  assert.equal(closed.reason, 'client closed the connection')
  assert.equal(typeof closed.durationMs, 'number')

  // mqtt.js: opened with its client id, closed by its DISCONNECT.
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.ports.mqtt}`, {
    clientId: 'sensor-7',
    reconnectPeriod: 0,
  })
  await logged(s, 'the MQTT open', (r) => r.msg === 'mqtt connection opened' && r.clientId === 'sensor-7')
  await client.endAsync()
  const mqttClosed = await logged(
    s,
    'the MQTT close',
    (r) => r.msg === 'mqtt connection closed' && r.clientId === 'sensor-7',
  )
  assert.equal(mqttClosed.reason, 'client sent DISCONNECT')

  // Every stdout line so far parsed as JSON (records() fails otherwise), the banner's URLs included.
  assert.ok(records(s.stdout()).length > 10)
})

test('kafkajs: the connection with its client id, an auto-created topic and a group rebalance', async (t) => {
  const s = await start(t)
  const kafka = new Kafka({ brokers: [`127.0.0.1:${s.ports.kafka}`], clientId: 'billing', logLevel: logLevel.NOTHING })
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({ topic: 'invoices', messages: [{ value: 'one' }] })
  await producer.disconnect()
  await logged(s, 'the Kafka open', (r) => r.msg === 'kafka connection opened' && r.clientId === 'billing')
  await logged(s, 'the auto-created topic', (r) => r.msg === 'stream created' && r.stream === 'invoices')
  const consumer = kafka.consumer({ groupId: 'billing-group' })
  t.after(() => consumer.disconnect())
  await consumer.connect()
  await consumer.subscribe({ topic: 'invoices', fromBeginning: true })
  await consumer.run({ eachMessage: async () => {} })
  const rebalance = await logged(
    s,
    'the rebalance',
    (r) => r.msg === 'consumer group rebalanced' && r.group === 'billing-group',
  )
  assert.equal(rebalance.level, INFO)
  assert.equal(rebalance.generation, 1)
  assert.equal(rebalance.memberCount, 1)
  assert.match(String((rebalance.members as string[])[0]), /^billing /)
})

test('pretty format: readable lines with the URLs under the banner', async (t) => {
  const s = await start(t, ['--log-format', 'pretty'])
  const out = s.stdout()
  assert.match(
    out,
    /^\d\d:\d\d:\d\d\.\d{3} INFO {2}wharf ready version=\S+ dataDir=\S+ dashboard=http:\/\/127\.0\.0\.1:/m,
  )
  assert.match(out, new RegExp(`^ {4}amqp://127\\.0\\.0\\.1:${s.ports.amqp}$`, 'm'))
  assert.doesNotMatch(out, /^\{/m, 'no JSON lines in pretty mode')
})

test('WHARF_LOG_FORMAT and the TTY default: json when stdout is a pipe unless asked for pretty', async (t) => {
  const piped = await start(t)
  assert.ok(records(piped.stdout()).some((r) => r.msg === 'wharf ready'))
  const pretty = await start(t, [], { WHARF_LOG_FORMAT: 'pretty' })
  assert.match(pretty.stdout(), / INFO {2}wharf ready /)
})

test('the pretty formatter: fields as key=value, string lists as lines, error stacks only at error', () => {
  const time = new Date(2026, 0, 2, 3, 4, 5, 6).getTime()
  const line = prettyLine(
    JSON.stringify({
      level: 40,
      time,
      pid: 1,
      hostname: 'h',
      msg: 'amqp protocol error',
      peer: '1.2.3.4:5',
      reason: 'a b',
    }),
  )
  assert.equal(line, '03:04:05.006 WARN  amqp protocol error peer=1.2.3.4:5 reason="a b"\n')
  const banner = prettyLine(JSON.stringify({ level: 30, time, msg: 'wharf ready', urls: ['amqp://x:1', 'mqtt://x:2'] }))
  assert.equal(banner, '03:04:05.006 INFO  wharf ready\n    amqp://x:1\n    mqtt://x:2\n')
  const error = prettyLine(
    JSON.stringify({
      level: 50,
      time,
      msg: 'failed',
      err: { message: 'boom', stack: 'Error: boom\n    at f (x.js:1)' },
    }),
  )
  assert.equal(error, '03:04:05.006 ERROR failed err=boom\n      at f (x.js:1)\n')
})

test('auto format: pretty to a terminal, JSON to anything else', () => {
  const written = (isTTY: boolean) => {
    const lines: string[] = []
    createLogger({ destination: { write: (line: string) => lines.push(line), isTTY } }).info({ user: 'guest' }, 'hello')
    return lines.join('')
  }
  const coloured = written(true)
  assert.ok(
    coloured.includes(`${String.fromCharCode(27)}[32mINFO ${String.fromCharCode(27)}[0m hello user=guest\n`),
    coloured,
  )
  assert.match(coloured, /^\d\d:\d\d:\d\d\.\d{3} /)
  assert.equal(JSON.parse(written(false)).user, 'guest')
})

test('a wildcard bind prints the URLs of this machine’s addresses', () => {
  const interfaces = {
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
    eth0: [
      { address: '10.1.2.3', family: 'IPv4', internal: false },
      { address: 'fd00::5', family: 'IPv6', internal: false },
    ],
  } as never
  assert.deepEqual(usableUrls(['amqp://0.0.0.0:5672', 'http://0.0.0.0:8080/ (admin)'], '0.0.0.0', interfaces), [
    'amqp://10.1.2.3:5672',
    'http://10.1.2.3:8080/ (admin)',
  ])
  assert.deepEqual(usableUrls(['mqtt://:::1883', 'http://[::]:8080/'], '::', interfaces), [
    'mqtt://10.1.2.3:1883',
    'mqtt://[fd00::5]:1883',
    'http://10.1.2.3:8080/',
    'http://[fd00::5]:8080/',
  ])
  assert.deepEqual(usableUrls(['amqp://127.0.0.1:5672'], '127.0.0.1', interfaces), ['amqp://127.0.0.1:5672'])
})

test('bound to 0.0.0.0, the banner lists usable URLs, not 0.0.0.0', async (t) => {
  const users = JSON.stringify([{ name: 'admin', password: 'admin-pw', tags: ['administrator'] }])
  const s = await start(t, [
    '--host',
    '0.0.0.0',
    '--users',
    users,
    '--amqp-port',
    '0',
    '--mqtt-port',
    '0',
    '--kafka-port',
    '0',
  ])
  const banner = records(s.stdout()).find((r) => r.msg === 'wharf ready')!
  const urls = banner.urls as string[]
  assert.ok(urls.length > 0)
  for (const url of urls) assert.doesNotMatch(url, /0\.0\.0\.0/)
  assert.doesNotMatch(String(banner.dashboard), /0\.0\.0\.0/)
})

/** A start that must fail: exit code 1, one `wharf:` line on stderr, no stack trace. */
async function failedStart(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const wharf = spawnWharf(args, env)
  let stderr = ''
  wharf.proc.stderr!.on('data', (chunk) => {
    stderr += chunk
  })
  assert.equal(await wharf.exit, 1, `exit code 1 for ${args.join(' ')}: ${wharf.output()}`)
  assert.match(stderr, /^wharf: /)
  assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace')
  return stderr
}

test('a port in use names the listener, the flag and the variable that move it', async (t) => {
  const holder = net.createServer()
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
  t.after(() => holder.close())
  const port = (holder.address() as net.AddressInfo).port
  const dataDir = join(tempDir(t), 'data')
  const message = await failedStart(['--data-dir', dataDir, '--amqp-port', String(port)])
  assert.match(message, new RegExp(`amqp listener: port ${port} on 127\\.0\\.0\\.1 is already in use`))
  assert.match(message, /--amqp-port N \(WHARF_AMQP_PORT=N\)/)
})

test('bad values list the valid ones and name the flag or variable, not the config key', async (t) => {
  const dataDir = join(tempDir(t), 'data')
  const base = ['--data-dir', dataDir]
  assert.match(
    await failedStart([...base, '--log-level', 'loud']),
    /--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/,
  )
  assert.match(
    await failedStart(base, { WHARF_DURABILITY: 'sometimes' }),
    /WHARF_DURABILITY must be one of always, interval, never, got "sometimes"/,
  )
  assert.match(await failedStart([...base, '--log-format', 'xml']), /--log-format must be one of auto, pretty, json/)
  assert.match(await failedStart([...base, '--http-port', '99999']), /--http-port must be a port number 0-65535/)
  assert.match(await failedStart([...base, '--host', 'not a host!']), /--host must be an IP address of this machine/)
  const unresolvable = await failedStart([...base, '--host', 'no-such-host.invalid'])
  assert.match(unresolvable, /--host no-such-host\.invalid \(WHARF_HOST\) does not resolve/)
  assert.match(unresolvable, /listen on one of: 0\.0\.0\.0, ::, localhost, .*127\.0\.0\.1/)
  assert.doesNotMatch(unresolvable, /logLevel|durability/)
})
