// The published package as a user gets it: `npm pack`, then `npm install -g` into an empty prefix and `npx`, both
// production-only and with install scripts off — the install of a machine without a C toolchain, where zstd-napi
// is present but not compiled, so zstd runs on the fallback (node:zlib or pure JS). Each copy starts, answers
// /readyz, takes a zstd-compressed produce from kcat and serves it back, and stops cleanly on SIGTERM.
// Installs resolve from npm's cache (warm after `npm ci`); `npm pack` runs `prepare`, which only rebuilds a stale
// dist/. The npx case is a second full install, so it runs with WHARF_LONG=1 only.
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { freePort, listenerPorts } from '../fixtures/wharf-process.ts'
import { commandLines, killTree, launch, root, run, stopWithSigterm, waitReady } from './harness.ts'

const INSTALL = ['--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund']
const built = existsSync(join(root, 'dist', 'index.js'))

/** Produces zstd-compressed lines with kcat and reads them back; the broker decodes the batch to validate it. */
async function zstdRoundTrip(kafkaPort: number): Promise<void> {
  const bootstrap = `127.0.0.1:${kafkaPort}`
  const lines = Array.from({ length: 50 }, (_, i) => `zstd-${i}-${'x'.repeat(200)}`)
  await run('kcat', ['-b', bootstrap, '-P', '-t', 'packed', '-z', 'zstd'], { input: `${lines.join('\n')}\n` })
  const back = await run('kcat', ['-b', bootstrap, '-C', '-t', 'packed', '-o', 'beginning', '-e', '-q', '-f', '%s\n'])
  assert.deepEqual(back.trim().split('\n'), lines)
}

async function ports(): Promise<{ kafka: number; http: number; args: string[] }> {
  const kafka = await freePort()
  const http = await freePort()
  return { kafka, http, args: listenerPorts({ kafka, http }) }
}

describe('the npm package', { skip: built ? false : 'dist/ not built (run npm ci or npm run build)' }, () => {
  let work: string
  let tarball: string

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'wharf-package-'))
    const packed = JSON.parse(
      await run('npm', ['pack', '--json', '--pack-destination', work], { timeoutMs: 300_000 }).then((out) =>
        out.slice(out.indexOf('[')),
      ),
    )
    tarball = join(work, packed[0].filename)
    const files = new Set<string>(packed[0].files.map((f: { path: string }) => f.path))
    for (const file of [
      'dist/index.js',
      'dist/cli/main.js',
      'bin/wharf.js',
      'dashboard/index.html',
      'LICENSE',
      'README.md',
    ])
      assert.ok(files.has(file), `the tarball carries ${file}`)
    assert.ok(![...files].some((f) => f.startsWith('src/') || f.startsWith('test/')), 'no sources or tests packed')
  })
  after(() => rmSync(work, { recursive: true, force: true }))

  test('is named wharf-broker and installs the `wharf` command', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
    assert.equal(manifest.name, 'wharf-broker')
    assert.deepEqual(Object.keys(manifest.bin), ['wharf'])
    assert.match(tarball, /wharf-broker-[\d.]+\.tgz$/)
  })

  test('npm install -g --prefix: starts, takes zstd from kcat without zstd-napi compiled, stops on SIGTERM', async (t) => {
    const prefix = join(work, 'prefix')
    await run('npm', ['install', '-g', '--prefix', prefix, tarball, ...INSTALL], { cwd: work, timeoutMs: 300_000 })
    const installed = join(prefix, 'lib', 'node_modules', 'wharf-broker')
    assert.ok(!existsSync(join(installed, 'node_modules', 'zstd-napi', 'build')), 'zstd-napi was not compiled')
    const dataDir = join(work, 'global-data')
    const { kafka, http, args } = await ports()
    const started = launch(join(prefix, 'bin', 'wharf'), ['start', '--data-dir', dataDir, ...args], { cwd: work })
    t.after(() => killTree(started))
    await waitReady(started.launcher, http, started.output)
    await zstdRoundTrip(kafka)
    await stopWithSigterm(started, http, dataDir)
  })

  // A second install of ~50 s on a shared 2-core box: in the long run only.
  const long = process.env.WHARF_LONG === '1' ? false : 'WHARF_LONG=1 only (a second full install)'
  test('npx --package <tarball> wharf start: runs from an empty folder and stops on SIGTERM to npx', {
    skip: long,
  }, async (t) => {
    const empty = join(work, 'empty')
    mkdirSync(empty)
    const dataDir = join(work, 'npx-data')
    const { kafka, http, args } = await ports()
    const env = { npm_config_ignore_scripts: 'true', npm_config_omit: 'dev' }
    const npx = ['--yes', '--prefer-offline', `--package=${tarball}`, 'wharf', 'start', '--data-dir', dataDir, ...args]
    const started = launch('npx', npx, { cwd: empty, env })
    t.after(() => killTree(started))
    await waitReady(started.launcher, http, started.output)
    // npx installed the tarball under npm's cache (_npx/<hash>, one per tarball path): removed afterwards.
    const npxInstall = commandLines(started.launcher.pid!)
      .map((line) => /(\S*\/_npx\/[0-9a-f]+)\//.exec(line)?.[1])
      .find((dir) => dir !== undefined)
    if (npxInstall !== undefined) t.after(() => rmSync(npxInstall, { recursive: true, force: true }))
    await zstdRoundTrip(kafka)
    await stopWithSigterm(started, http, dataDir)
  })
})
