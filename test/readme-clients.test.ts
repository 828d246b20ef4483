// The README's "Connect your client" snippets, run as a user would paste them, in order, against a fresh
// broker: each one's default port is swapped for the test broker's, nothing else is changed.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { startSpawned } from './fixtures/spawned-wharf.ts'

const run = promisify(execFile)
const root = new URL('..', import.meta.url).pathname

interface Snippet {
  language: string
  code: string
}

function snippets(): Snippet[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const start = readme.indexOf('## Connect your client')
  assert.ok(start >= 0, 'README has a "Connect your client" section')
  const end = readme.indexOf('\n## ', start + 1)
  const section = readme.slice(start, end)
  return [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ language: m[1] ?? '', code: m[2] ?? '' }))
}

/** What each snippet prints when it worked, in README order. */
const expected: RegExp[][] = [
  [/\{"total": 9\.5\}/], // kafkajs
  [/customer-42 \{"total": 9\.5\}/, /topic "orders" with 1 partitions/], // kcat
  [/resize image 7/], // amqplib
  [/resize image 8/], // pika
  [/sensors\/kitchen\/temp 21\.5/], // mqtt.js
  [/sensors\/hall\/temp 19\.0/], // mosquitto
  [/\/queue\/invoices large invoice/], // stomp.py
  [/hello over AMQP 1\.0/], // rhea
  [/welcome alice/], // AWS SDK
  [/weekly report/, /"TopicArn": "arn:aws:sns:[^"]+:alerts"/], // AWS CLI
  [/"id":\s*1/, /"subject":\s*"orders-value"/], // registry
]

async function available(command: string): Promise<boolean> {
  return run('sh', ['-c', `command -v ${command}`]).then(
    () => true,
    () => false,
  )
}

test('every "Connect your client" snippet in the README works against a fresh broker', async (t) => {
  const blocks = snippets()
  assert.equal(blocks.length, expected.length, 'a snippet was added or removed: update `expected`')
  const { ports } = await startSpawned(t, ['kafka', 'amqp', 'mqtt', 'http', 'stomp'])
  const defaults: Record<string, number> = {
    '9092': ports.kafka,
    '5672': ports.amqp,
    '1883': ports.mqtt,
    '8080': ports.http,
    '61613': ports.stomp,
  }
  // Inside the repository, so `import 'kafkajs'` resolves as in a project that installed the client.
  const dir = mkdtempSync(join(root, '.tmp-snippets-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))

  for (const [i, block] of blocks.entries()) {
    const code = block.code.replace(/\b(9092|5672|1883|8080|61613)\b/g, (port) => String(defaults[port]))
    await t.test(`${i}: ${block.language} ${code.split('\n')[0]}`, async (st) => {
      let output: { stdout: string; stderr: string }
      const options = { cwd: dir, timeout: 60_000, env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' } }
      if (block.language === 'js') {
        const file = join(dir, `snippet-${i}.mjs`)
        writeFileSync(file, code)
        output = await run(process.execPath, [file], options)
      } else if (block.language === 'python') {
        output = await run('/usr/bin/python3', ['-c', code], options)
      } else {
        assert.equal(block.language, 'sh')
        const tools = [...new Set(code.match(/^\s*(?:url=\$\()?(kcat|mosquitto_\w+|aws|curl)\b/gm) ?? [])].map((m) =>
          m.replace(/^\s*(url=\$\()?/, ''),
        )
        for (const tool of tools)
          if (!(await available(tool))) {
            st.skip(`${tool} is not installed (CI installs it)`)
            return
          }
        output = await run('bash', ['-euo', 'pipefail', '-c', code], options)
      }
      for (const pattern of expected[i] ?? []) assert.match(output.stdout, pattern, output.stderr)
      // The STOMP snippet's selector (amount > 100) leaves the small invoice in the queue.
      if (code.includes("'selector'")) assert.doesNotMatch(output.stdout, /small invoice/)
    })
  }
})
