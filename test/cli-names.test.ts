// The name rule through the CLI (a child process against a `wharf start` child): the CLI creates through the
// REST API, so a refused name exits 1 with the API's message, which states the rule.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { startSpawned } from './fixtures/spawned-wharf.ts'

const cli = new URL('./fixtures/wharf-cli.ts', import.meta.url).pathname
const RULE = "names are 1-249 characters of letters a-z A-Z, digits, '.', '_' and '-', and not '.' or '..'"

async function wharf(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', cli, ...args])
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

test('wharf topics/queues create: names outside the rule exit 1 with the rule stated', {
  timeout: 60_000,
}, async (t) => {
  const { ports } = await startSpawned(t, ['http'])
  const url = `http://127.0.0.1:${ports.http}`
  for (const [verb, kind] of [
    ['topics', 'stream'],
    ['queues', 'queue'],
  ] as const) {
    for (const name of ['../../etc', 'two words']) {
      const r = await wharf([verb, 'create', name, '--url', url])
      assert.equal(r.code, 1, `${verb} create ${name}`)
      assert.ok(
        r.stderr.includes(`invalid ${kind} name ${JSON.stringify(name)}: ${RULE}`),
        `${verb} create ${name}: ${r.stderr}`,
      )
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
    }
  }
  const ok = await wharf(['topics', 'create', 'orders.v2', '--url', url])
  assert.equal(ok.code, 0, ok.stderr)
  const listed = await wharf(['topics', 'list', '--url', url])
  assert.match(listed.stdout, /^orders\.v2\t/m)
  assert.doesNotMatch(listed.stdout, /etc|two words/)
})
