#!/usr/bin/env node
// What TLS and authentication cost, measured on one Wharf in one run, plaintext and secured repetitions
// interleaved so the machine's drift spreads over both:
//   kafka : kcat produces N × 1 KiB with acks=all — plaintext (anonymous) vs SASL_SSL SCRAM-SHA-512
//   amqp  : persistent 1 KiB work queue, amqplib, publisher confirms + manual acks — PLAIN over plaintext vs
//           PLAIN over TLS (amqps)
//   authz : AMQP publish path with the authorization check (a user ACL rules apply to) vs without it (an
//           administrator, who bypasses rules), plus the in-process cost of one cached decision
//   peer  : with --peer, the same AMQP work queue against RabbitMQ, plaintext and TLS, in the same run
//   node bench/security.mjs [--reps 3] [--messages 50000] [--only kafka|amqp|authz] [--peer] [--out DIR]
// Needs `npm run build`, kcat, and for --peer rabbitmq-server (Debian packages).
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import amqp from 'amqplib'
import { median, spawnBuiltWharf, waitForPort } from './lib/process.mjs'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const { values: a } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    messages: { type: 'string', default: '50000' },
    only: { type: 'string' },
    out: { type: 'string' },
    peer: { type: 'boolean', default: false },
  },
})
const reps = Number(a.reps)
const messages = Number(a.messages)
const work = mkdtempSync(join(tmpdir(), 'wharf-bench-security-'))
const outDir = a.out
if (outDir) mkdirSync(outDir, { recursive: true })

const { makeDevCertificates } = await import(join(repo, 'dist/cli/certs.js'))
const certs = await makeDevCertificates(join(work, 'certs'), { clients: [] })
const ports = { kafka: 19092, kafkaTls: 19093, amqp: 15672, amqps: 15671, http: 18080 }
const config = {
  anonymous: true,
  users: [
    { name: 'alice', password: 'alice-pw', tags: ['administrator'] },
    { name: 'bob', password: 'bob-pw' },
  ],
  // bob's publishes pass the authorization check (an allow-list on his queue), alice's bypass it.
  acls: [
    {
      principal: 'User:bob',
      operation: 'All',
      permission: 'Allow',
      resourceType: 'Topic',
      resourceName: 'bench',
      patternType: 'Prefixed',
    },
    { principal: 'User:bob', operation: 'All', permission: 'Allow', resourceType: 'Exchange', resourceName: '*' },
  ],
  tls: { certFile: certs.cert, keyFile: certs.key, caFile: certs.ca, clientAuth: 'none' },
  kafkaPort: ports.kafka,
  kafkaTlsPort: ports.kafkaTls,
  amqpPort: ports.amqp,
  amqpTlsPort: ports.amqps,
  mqttPort: 0,
  stompPort: 0,
  httpPort: ports.http,
  httpsPort: 0,
}
writeFileSync(join(work, 'wharf.json'), JSON.stringify(config))

const data = join(work, 'data')
const wharf = spawnBuiltWharf(
  repo,
  ['--config', join(work, 'wharf.json'), '--data-dir', data, '--log-level', 'warn'],
  ['ignore', 'ignore', 'inherit'],
)
const cpuOf = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}

const results = []
/** CPU seconds of this process's waited-for children (kcat). */
const childCpu = () => {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')
  return (Number(f[13]) + Number(f[14])) / 100
}

function record(scenario, variant, rep, seconds, cpuSeconds, count, bytes, clientCpuSeconds) {
  const row = {
    ...(clientCpuSeconds === undefined ? {} : { clientCpuPerMsgUs: (clientCpuSeconds / count) * 1e6 }),
    scenario,
    variant,
    rep,
    seconds,
    msgsPerSec: count / seconds,
    mbPerSec: bytes / seconds / 1e6,
    brokerCpuPerMsgUs: (cpuSeconds / count) * 1e6,
  }
  results.push(row)
  console.error(
    `${scenario} ${variant} rep ${rep}: ${Math.round(row.msgsPerSec)} msg/s, ${row.mbPerSec.toFixed(1)} MB/s, broker CPU ${row.brokerCpuPerMsgUs.toFixed(1)} µs/msg`,
  )
}

async function measure(pid, fn) {
  const cpu0 = cpuOf(pid)
  const t0 = process.hrtime.bigint()
  await fn()
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  return { seconds, cpu: cpuOf(pid) - cpu0 }
}

// ---- RabbitMQ with a TLS listener, the same certificate (started as peerbench's start.sh does) ----
async function withRabbit(fn) {
  const dir = join(work, 'rabbitmq')
  for (const sub of ['home', 'log', 'mnesia']) mkdirSync(join(dir, sub), { recursive: true })
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      'listeners.tcp.default = 127.0.0.1:25672',
      'listeners.ssl.default = 127.0.0.1:25671',
      `ssl_options.cacertfile = ${certs.ca}`,
      `ssl_options.certfile = ${certs.cert}`,
      `ssl_options.keyfile = ${certs.key}`,
      'ssl_options.verify = verify_none',
      'ssl_options.fail_if_no_peer_cert = false',
      'ssl_options.versions.1 = tlsv1.3',
      'ssl_options.versions.2 = tlsv1.2',
      'default_user = alice',
      'default_pass = alice-pw',
      'loopback_users = none',
      'log.file.level = warning',
      '',
    ].join('\n'),
  )
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n')
  const epmd = spawn('/usr/bin/epmd', ['-address', '127.0.0.1', '-port', '4369'], { stdio: 'ignore' })
  const env = {
    ...process.env,
    HOME: join(dir, 'home'),
    RABBITMQ_NODENAME: 'rabbit@localhost',
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_DIST_PORT: '35672',
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_CONF_ENV_FILE: '/dev/null',
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'beam.pid'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  }
  const rabbit = spawn('/usr/lib/rabbitmq/bin/rabbitmq-server', [], { env, stdio: 'ignore' })
  try {
    await waitForPort(25672, 120)
    await waitForPort(25671, 30)
    const beam = Number(readFileSync(join(dir, 'beam.pid'), 'utf8'))
    await fn({ amqp: 25672, amqps: 25671, pid: () => beam })
  } finally {
    const beam = Number(readFileSync(join(dir, 'beam.pid'), 'utf8').trim() || 0)
    const exited = new Promise((r) => rabbit.once('exit', r))
    rabbit.kill('SIGTERM')
    await exited
    if (beam) {
      try {
        process.kill(beam, 0)
        process.kill(beam, 'SIGTERM')
        await new Promise((r) => setTimeout(r, 3000))
      } catch {}
    }
    epmd.kill('SIGTERM')
  }
}

// ---- Kafka: kcat producer ----
const payloadFile = join(work, 'payload.txt')
writeFileSync(payloadFile, `${'x'.repeat(1023)}\n`.repeat(messages))
function kcat(topic, secured) {
  const args = [
    '-P',
    '-b',
    `127.0.0.1:${secured ? ports.kafkaTls : ports.kafka}`,
    '-t',
    topic,
    '-X',
    'acks=all',
    '-l',
    payloadFile,
  ]
  if (secured)
    args.push(
      '-X',
      'security.protocol=SASL_SSL',
      '-X',
      'sasl.mechanisms=SCRAM-SHA-512',
      '-X',
      'sasl.username=alice',
      '-X',
      'sasl.password=alice-pw',
      '-X',
      `ssl.ca.location=${certs.ca}`,
    )
  const r = spawnSync('kcat', args, { stdio: ['ignore', 'inherit', 'inherit'] })
  if (r.status !== 0) throw new Error(`kcat exited ${r.status}`)
}

// ---- AMQP: persistent work queue, confirms + acks ----
const wharfAmqp = { amqp: ports.amqp, amqps: ports.amqps, pid: () => wharf.pid }
async function amqpConnect(user, password, secured, target) {
  return secured
    ? amqp.connect(
        { protocol: 'amqps', hostname: 'localhost', port: target.amqps, username: user, password, heartbeat: 0 },
        { ca: [readFileSync(certs.ca)], servername: 'localhost' },
      )
    : amqp.connect({
        protocol: 'amqp',
        hostname: '127.0.0.1',
        port: target.amqp,
        username: user,
        password,
        heartbeat: 0,
      })
}
const body = Buffer.alloc(1024, 120)
async function workQueue(queue, user, password, secured, persistent, consume, target = wharfAmqp) {
  const conn = await amqpConnect(user, password, secured, target)
  const admin = await conn.createChannel()
  await admin.assertQueue(queue, { durable: persistent })
  await admin.purgeQueue(queue)
  const pub = await conn.createConfirmChannel()
  let received = 0
  let done
  const allIn = new Promise((r) => (done = r))
  if (consume) {
    const sub = await conn.createChannel()
    await sub.prefetch(500)
    await sub.consume(queue, (m) => {
      sub.ack(m)
      if (++received === messages) done()
    })
  }
  const timing = await measure(target.pid(), async () => {
    const window = 512
    let sent = 0
    let confirmed = 0
    await new Promise((resolveAll, reject) => {
      const pump = () => {
        while (sent < messages && sent - confirmed < window) {
          sent++
          pub.sendToQueue(queue, body, { persistent }, (err) => {
            if (err) return reject(err)
            confirmed++
            if (confirmed === messages) resolveAll()
            else pump()
          })
        }
      }
      pump()
    })
    if (consume) await allIn
  })
  await conn.close()
  return timing
}

// ---- authorization decision, in process ----
async function decisionCost() {
  const { Security } = await import(join(repo, 'dist/broker/security/security.js'))
  const { parseAclBinding } = await import(join(repo, 'dist/broker/security/acls.js'))
  const store = new Map()
  const metadata = {
    get: (k, n) => store.get(`${k}/${n}`),
    list: (k) => [...store].filter(([key]) => key.startsWith(`${k}/`)).map(([key, v]) => [key.slice(k.length + 1), v]),
    put: async (k, n, v) => void store.set(`${k}/${n}`, v),
    delete: async (k, n) => void store.delete(`${k}/${n}`),
  }
  const security = new Security(metadata)
  await security.acls.add(config.acls.map((r) => parseAclBinding(r)))
  const access = security.access({ name: 'bob', tags: [], mechanism: 'PLAIN' }, '127.0.0.1')
  const n = 5_000_000
  let allowed = 0
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) if (access.allows('Write', 'Exchange', 'amq.topic')) allowed++
  const ns = Number(process.hrtime.bigint() - t0) / n
  if (allowed !== n) throw new Error('decision changed')
  return ns
}

try {
  await waitForPort(ports.amqp, 30)
  await waitForPort(ports.kafkaTls, 30)
  const want = (s) => !a.only || a.only === s
  for (let rep = 1; rep <= reps; rep++) {
    // Alternate which variant goes first, so neither always runs on a warmer broker.
    const order = rep % 2 ? [false, true] : [true, false]
    if (want('kafka'))
      for (const secured of order) {
        const client0 = childCpu()
        const t = await measure(wharf.pid, async () => kcat(`bench-kafka-${secured ? 'tls' : 'plain'}-${rep}`, secured))
        record(
          'kafka produce 1 KiB acks=all (kcat)',
          secured ? 'SASL_SSL SCRAM-SHA-512' : 'plaintext',
          rep,
          t.seconds,
          t.cpu,
          messages,
          messages * 1024,
          childCpu() - client0,
        )
      }
    if (want('amqp'))
      for (const secured of order) {
        const t = await workQueue('bench-wq', 'alice', 'alice-pw', secured, true, true)
        record(
          'amqp persistent work queue 1 KiB (amqplib)',
          secured ? 'TLS + PLAIN' : 'plaintext + PLAIN',
          rep,
          t.seconds,
          t.cpu,
          messages,
          messages * 1024,
        )
      }
    if (want('authz'))
      for (const checked of order) {
        const t = checked
          ? await workQueue('bench-authz', 'bob', 'bob-pw', false, false, false)
          : await workQueue('bench-authz', 'alice', 'alice-pw', false, false, false)
        record(
          'amqp transient publish 1 KiB, confirms (amqplib)',
          checked ? 'authorization checked (bob)' : 'no check (administrator)',
          rep,
          t.seconds,
          t.cpu,
          messages,
          messages * 1024,
        )
      }
  }
  if (a.peer && want('amqp'))
    await withRabbit(async (rabbit) => {
      for (let rep = 1; rep <= reps; rep++)
        for (const secured of rep % 2 ? [false, true] : [true, false]) {
          const t = await workQueue('bench-wq', 'alice', 'alice-pw', secured, true, true, rabbit)
          record(
            'RabbitMQ: amqp persistent work queue 1 KiB (amqplib)',
            secured ? 'TLS + PLAIN' : 'plaintext + PLAIN',
            rep,
            t.seconds,
            t.cpu,
            messages,
            messages * 1024,
          )
        }
    })

  const lines = [
    '| scenario | variant | msg/s (median) | MB/s | broker CPU µs/msg | client CPU µs/msg | vs first variant |',
    '|---|---|---|---|---|---|---|',
  ]
  for (const scenario of [...new Set(results.map((r) => r.scenario))]) {
    const variants = [...new Set(results.filter((r) => r.scenario === scenario).map((r) => r.variant))]
    let base
    for (const variant of variants) {
      const rows = results.filter((r) => r.scenario === scenario && r.variant === variant)
      const rate = median(rows.map((r) => r.msgsPerSec))
      base ??= rate
      lines.push(
        `| ${scenario} | ${variant} | ${Math.round(rate)} | ${median(rows.map((r) => r.mbPerSec)).toFixed(1)} | ${median(rows.map((r) => r.brokerCpuPerMsgUs)).toFixed(1)} | ${rows[0].clientCpuPerMsgUs === undefined ? '–' : median(rows.map((r) => r.clientCpuPerMsgUs)).toFixed(1)} | ${(rate / base).toFixed(2)}× |`,
      )
    }
  }
  if (want('authz'))
    lines.push(
      '',
      `One cached authorization decision (Access.allows), in process: ${(await decisionCost()).toFixed(1)} ns`,
    )
  const report = lines.join('\n')
  console.log(report)
  if (outDir) writeFileSync(join(outDir, 'security.md'), `${report}\n`)
  if (outDir) writeFileSync(join(outDir, 'security.jsonl'), `${results.map((r) => JSON.stringify(r)).join('\n')}\n`)
} finally {
  const exited = new Promise((r) => wharf.once('exit', r))
  wharf.kill('SIGTERM')
  await exited
  rmSync(work, { recursive: true, force: true })
}
