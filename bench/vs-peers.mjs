#!/usr/bin/env node
// Wharf against a peer broker, side by side in one run, with the ratio: the ../shared/peerbench
// scenarios (same load generators, clients and phases for both), repetitions interleaved (rep 1 of
// Wharf, rep 1 of the peer, rep 2 of Wharf, ...) so the machine's drift spreads over both.
//   node bench/vs-peers.mjs [--protocol amqp|mqtt] [--reps 3] [--only REGEX] [--out DIR] [--baseline DIR]
// --baseline DIR adds a third contender, the built Wharf checkout in DIR (e.g. a `git worktree` of the
// commit before a change), interleaved with the other two, and a before/after column. --no-peer skips the
// peer broker (a before/after comparison of Wharf alone, more reps in the same time).
// Needs `npm run build` (runs dist/ through bin/wharf.js, fsync always) and the peer from Debian:
// rabbitmq-server for amqp, mosquitto for mqtt. peerbench is copied to a temp dir and `npm ci`'d there
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
    reps: { type: 'string', default: '3' },
    only: { type: 'string' },
    out: { type: 'string' },
    peerbench: { type: 'string', default: resolve(repo, '../shared/peerbench') },
    baseline: { type: 'string' },
    'no-peer': { type: 'boolean', default: false },
  },
})

const PROTOCOLS = {
  amqp: { peer: 'rabbitmq', port: 5672, ids: /^(wq-amqp-|fanout-amqp-)/, peerId: (id) => id },
  mqtt: { peer: 'mosquitto', port: 1883, ids: /^fanout-mqtt-qos[01]$/, peerId: (id) => `${id}-mosquitto` },
}
const proto = PROTOCOLS[a.protocol]
if (!proto) throw new Error(`--protocol must be one of ${Object.keys(PROTOCOLS).join(', ')}`)
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
const outDir = a.out ?? mkdtempSync(join(tmpdir(), 'wharf-vs-peers-'))
mkdirSync(outDir, { recursive: true })
const wharfOut = join(outDir, 'wharf.jsonl')
const peerOut = join(outDir, `${proto.peer}.jsonl`)
const baselineOut = join(outDir, 'wharf-baseline.jsonl')

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`)
}

async function withWharf(fn, dir = repo) {
  const data = mkdtempSync(join(tmpdir(), 'wharf-bench-data-'))
  const child = spawnBuiltWharf(dir, ['--data-dir', data, '--log-level', 'warn'], 'inherit')
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

async function withPeer(fn) {
  run('./start.sh', [proto.peer], bench)
  try {
    await fn()
  } finally {
    run('./stop.sh', proto.peer === 'rabbitmq' ? ['rabbitmq', 'epmd'] : [proto.peer], bench)
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

for (let rep = 1; rep <= Number(a.reps); rep++) {
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
  console.error(`\n##### rep ${rep}: ${proto.peer}`)
  await withPeer(() =>
    run(
      process.execPath,
      ['suite.mjs', '--only', scenarioRegex(ids.map(proto.peerId)), '--reps', '1', '--no-physical', '--out', peerOut],
      bench,
    ),
  )
}

const load = (f) =>
  existsSync(f)
    ? readFileSync(f, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : []
const wharf = load(wharfOut)
const peer = load(peerOut)
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
const rows = baseline
  ? [
      `| scenario | Wharf e2e msg/s | baseline e2e msg/s | after/before | ${proto.peer} e2e msg/s | ratio | p99 ms Wharf / baseline / ${proto.peer} | broker CPU % Wharf / baseline / ${proto.peer} |`,
      '|---|---|---|---|---|---|---|---|',
    ]
  : [
      `| scenario | Wharf e2e msg/s | ${proto.peer} e2e msg/s | ratio | p99 ms Wharf / ${proto.peer} | broker CPU % Wharf / ${proto.peer} |`,
      '|---|---|---|---|---|---|',
    ]
for (const id of ids) {
  const we = pick(wharf, id, (p) => p.e2e.msgsPerSec)
  const pe = pick(peer, proto.peerId(id), (p) => p.e2e.msgsPerSec)
  const lat = (rs, i) => msOf(pick(rs, i, (p) => p.latency.lat.p99_us))
  const cpu = (rs, i) => Math.round(pick(rs, i, (p) => p.e2e.brokerCpuPct) ?? Number.NaN)
  const ratio = (x, y) => (x && y ? `${(x / y).toFixed(2)}×` : '–')
  if (baseline) {
    const be = pick(before, id, (p) => p.e2e.msgsPerSec)
    rows.push(
      `| ${id} | ${k(we)} | ${k(be)} | ${ratio(we, be)} | ${k(pe)} | ${ratio(we, pe)} | ${lat(wharf, id)} / ${lat(before, id)} / ${lat(peer, proto.peerId(id))} | ${cpu(wharf, id)} / ${cpu(before, id)} / ${cpu(peer, proto.peerId(id))} |`,
    )
  } else {
    rows.push(
      `| ${id} | ${k(we)} | ${k(pe)} | ${ratio(we, pe)} | ${lat(wharf, id)} / ${lat(peer, proto.peerId(id))} | ${cpu(wharf, id)} / ${cpu(peer, proto.peerId(id))} |`,
    )
  }
}
const table = `Medians of ${a.reps} interleaved repetitions; fan-out rows count published msg/s.\n\n${rows.join('\n')}\n`
writeFileSync(join(outDir, 'ratio.md'), table)
console.log(`\n${table}\nraw runs: ${outDir}`)
