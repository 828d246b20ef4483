#!/usr/bin/env node
// Wharf against a peer broker, side by side in one run, with the ratio: the ../shared/peerbench
// scenarios (same load generators, clients and phases for both), repetitions interleaved (rep 1 of
// Wharf, rep 1 of the peer, rep 2 of Wharf, ...) so the machine's drift spreads over both.
//   node bench/vs-peers.mjs [--protocol amqp|amqp10|mqtt|stomp] [--peer NAME[,NAME]] [--reps 3] [--only REGEX] [--out DIR]
//                           [--baseline DIR]
// --baseline DIR adds a third contender, the built Wharf checkout in DIR (e.g. a `git worktree` of the
// commit before a change), interleaved with the other two, and a before/after column. --no-peer skips the
// peer broker (a before/after comparison of Wharf alone, more reps in the same time). --table-only renders the
// table of the runs already in --out (with the same --protocol, --peer, --baseline, --reps) and runs nothing.
// Needs `npm run build` (runs dist/ through bin/wharf.js, fsync always) and the peer from Debian:
// rabbitmq-server for amqp and amqp10 (its rabbitmq_amqp1_0 plugin on 5672), mosquitto for mqtt, activemq and/or rabbitmq-server for stomp (--peer activemq,
// rabbitmq by default: both STOMP peers take 61613, so each runs alone, and Wharf runs with STOMP on 61613 and
// its other listeners off while no peer is up). With two peers every rep runs Wharf once, then each peer, and
// the table has a ratio per peer. peerbench is copied to a temp dir and `npm ci`'d there
// the first time (kept in $TMPDIR/wharf-peerbench, so ../shared stays untouched).
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { median, spawnBuiltWharf, waitForPort } from './lib/process.mjs'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const { values: a } = parseArgs({
  options: {
    protocol: { type: 'string', default: 'amqp' },
    peer: { type: 'string' },
    reps: { type: 'string', default: '3' },
    only: { type: 'string' },
    out: { type: 'string' },
    peerbench: { type: 'string', default: resolve(repo, '../shared/peerbench') },
    baseline: { type: 'string' },
    'no-peer': { type: 'boolean', default: false },
    'table-only': { type: 'boolean', default: false },
  },
})

// peers: the peer brokers that may be compared (the first ones by default); peerId: the peer matrix's id of a
// candidate scenario; wharfArgs: listeners Wharf turns off so it holds no port a peer needs.
const PROTOCOLS = {
  amqp: { peers: ['rabbitmq'], port: 5672, ids: /^(wq-amqp-|fanout-amqp-)/, peerId: (id) => id, wharfArgs: [] },
  // AMQP 1.0 shares 5672 with 0-9-1 on both brokers (Wharf sniffs the protocol header).
  amqp10: {
    peers: ['rabbitmq'],
    port: 5672,
    ids: /^wq-amqp10-/,
    peerId: (id) => id,
    wharfArgs: ['--mqtt-port', '0', '--kafka-port', '0', '--http-port', '0', '--stomp-port', '0'],
  },
  mqtt: {
    peers: ['mosquitto'],
    port: 1883,
    ids: /^fanout-mqtt-qos[01]$/,
    peerId: (id, peer) => `${id}-${peer}`,
    wharfArgs: [],
  },
  stomp: {
    peers: ['activemq', 'rabbitmq'],
    port: 61613,
    ids: /^(wq-stomp-|fanout-stomp-)/,
    peerId: (id, peer) => `${id}-${peer}`,
    wharfArgs: ['--amqp-port', '0', '--mqtt-port', '0', '--kafka-port', '0', '--http-port', '0'],
  },
}
const proto = PROTOCOLS[a.protocol]
if (!proto) throw new Error(`--protocol must be one of ${Object.keys(PROTOCOLS).join(', ')}`)
const peers = a.peer ? a.peer.split(',') : proto.peers
for (const peer of peers)
  if (!proto.peers.includes(peer)) throw new Error(`--peer for ${a.protocol} must be among ${proto.peers.join(', ')}`)
const baseline = a.baseline ? resolve(a.baseline) : undefined
for (const dir of [repo, baseline].filter(Boolean)) {
  if (!existsSync(join(dir, 'dist/cli/main.js'))) throw new Error(`run \`npm run build\` in ${dir} first`)
}

const bench = join(tmpdir(), 'wharf-peerbench')
if (!existsSync(join(bench, 'node_modules'))) {
  cpSync(a.peerbench, bench, {
    recursive: true,
    filter: (src) => !src.includes('node_modules') && !src.endsWith('/run'),
  })
  run('npm', ['ci', '--no-audit', '--no-fund'], bench)
}
// Absolute: the suites run in the peerbench directory.
const outDir = resolve(a.out ?? mkdtempSync(join(tmpdir(), 'wharf-vs-peers-')))
mkdirSync(outDir, { recursive: true })
const wharfOut = join(outDir, 'wharf.jsonl')
const peerOut = (peer) => join(outDir, `${peer}.jsonl`)
const baselineOut = join(outDir, 'wharf-baseline.jsonl')

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`)
}

async function withWharf(fn, dir = repo) {
  const data = mkdtempSync(join(tmpdir(), 'wharf-bench-data-'))
  const child = spawnBuiltWharf(dir, ['--data-dir', data, '--log-level', 'warn', ...proto.wharfArgs], 'inherit')
  try {
    await waitForPort(proto.port, 30)
    await fn(child.pid)
  } finally {
    const exited = new Promise((r) => child.once('exit', r))
    process.kill(child.pid, 'SIGTERM')
    await exited
    rmSync(data, { recursive: true, force: true })
  }
}

async function withPeer(peer, fn) {
  run('./start.sh', [peer], bench)
  try {
    await fn()
  } finally {
    run('./stop.sh', peer === 'rabbitmq' ? ['rabbitmq', 'epmd'] : [peer], bench)
  }
}

const scenarioRegex = (ids) => `^(${ids.join('|')})$`
const { candidateScenarios } = await import(join(bench, 'scenarios.mjs'))
const ids = candidateScenarios()
  .map((s) => s.id)
  .filter((id) => proto.ids.test(id) && (!a.only || new RegExp(a.only).test(id)))
if (ids.length === 0) throw new Error('no scenario selected')

const runWharf = (out, dir) =>
  withWharf(
    (pid) =>
      run(
        process.execPath,
        ['suite.mjs', '--target', 'candidate', '--name', 'wharf', '--broker-pid', String(pid)].concat([
          '--only',
          scenarioRegex(ids),
          '--reps',
          '1',
          '--no-physical',
          '--out',
          out,
        ]),
        bench,
      ),
    dir,
  )

// --table-only: no runs, only the table of the runs already in --out (e.g. of a campaign cut short).
for (let rep = 1; rep <= (a['table-only'] ? 0 : Number(a.reps)); rep++) {
  // With a baseline, the two Wharfs swap places every rep, so neither always runs on a fresher machine.
  const wharfs = [
    ['Wharf', wharfOut, repo],
    ['Wharf baseline', baselineOut, baseline],
  ].filter(([, , dir]) => dir)
  if (rep % 2 === 0) wharfs.reverse()
  for (const [name, out, dir] of wharfs) {
    console.error(`\n##### rep ${rep}: ${name} (${dir})`)
    await runWharf(out, dir)
  }
  if (a['no-peer']) continue
  for (const peer of peers) {
    console.error(`\n##### rep ${rep}: ${peer}`)
    const only = scenarioRegex(ids.map((id) => proto.peerId(id, peer)))
    await withPeer(peer, () =>
      run(
        process.execPath,
        ['suite.mjs', '--only', only, '--reps', '1', '--no-physical', '--out', peerOut(peer)],
        bench,
      ),
    )
  }
}

const load = (f) =>
  existsSync(f)
    ? readFileSync(f, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : []
const wharf = load(wharfOut)
const peerRuns = Object.fromEntries(peers.map((peer) => [peer, load(peerOut(peer))]))
const before = load(baselineOut)
const pick = (rs, id, f) =>
  median(
    rs
      .filter((r) => r.id === id && r.ok)
      .map((r) => {
        try {
          return f(r.phases)
        } catch {
          return null
        }
      }),
  )
const k = (x) => (x == null ? '–' : x >= 10000 ? `${(x / 1000).toFixed(1)}k` : `${(x / 1000).toFixed(2)}k`)
const msOf = (us) => (us == null ? '–' : (us / 1000).toFixed(2))
const ratio = (x, y) => (x && y ? `${(x / y).toFixed(2)}×` : '–')
/** Broker CPU per delivered message in µs (a fan-out counts every subscriber's copy), per run, then the median. */
const cpuPerDelivery = (p) => ((p.e2e.brokerCpuPct / 100) * 1e6) / (p.e2e.deliveriesPerSec ?? p.e2e.msgsPerSec)
const us = (x) => (x == null ? '–' : x.toFixed(1))
// The contenders in column order: Wharf, the baseline Wharf when given, then each peer.
const contenders = [
  ['Wharf', wharf, (id) => id],
  ...(baseline ? [['baseline', before, (id) => id]] : []),
  ...(a['no-peer'] ? [] : peers.map((peer) => [peer, peerRuns[peer], (id) => proto.peerId(id, peer)])),
]
const names = contenders.map(([name]) => name)
const rows = [
  `| scenario | ${names.map((n) => `${n} e2e msg/s`).join(' | ')} | ${names
    .slice(1)
    .map((n) => `Wharf / ${n}`)
    .join(
      ' | ',
    )} | p99 ms ${names.join(' / ')} | broker CPU % ${names.join(' / ')} | broker CPU µs per delivery ${names.join(' / ')} |`,
  `|---|${names.map(() => '---|').join('')}${names
    .slice(1)
    .map(() => '---|')
    .join('')}---|---|---|`,
]
for (const id of ids) {
  const e2e = contenders.map(([, rs, idOf]) => pick(rs, idOf(id), (p) => p.e2e.msgsPerSec))
  const lat = contenders.map(([, rs, idOf]) => msOf(pick(rs, idOf(id), (p) => p.latency.lat.p99_us)))
  const cpu = contenders.map(([, rs, idOf]) => {
    const pct = pick(rs, idOf(id), (p) => p.e2e.brokerCpuPct)
    return pct == null ? '–' : Math.round(pct)
  })
  const perDelivery = contenders.map(([, rs, idOf]) => us(pick(rs, idOf(id), cpuPerDelivery)))
  rows.push(
    `| ${id} | ${e2e.map(k).join(' | ')} | ${e2e
      .slice(1)
      .map((x) => ratio(e2e[0], x))
      .join(' | ')} | ${lat.join(' / ')} | ${cpu.join(' / ')} | ${perDelivery.join(' / ')} |`,
  )
}
const table = `Medians of ${a.reps} interleaved repetitions; fan-out rows count published msg/s (deliveries = ×subscribers).\n\n${rows.join('\n')}\n`
writeFileSync(join(outDir, 'ratio.md'), table)
console.log(`\n${table}\nraw runs: ${outDir}`)
