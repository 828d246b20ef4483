// Hostile schemas against the Confluent-compatible registry of a spawned wharf, over HTTP: a pattern that
// backtracks exponentially must not stall the broker when a record is checked against it; oversized,
// too deeply nested and endlessly self-referencing schemas are refused with 422 / 42201 at registration
// (they used to answer 500, or register and then fail every produce).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { openStorage } from '../../../src/storage/local/index.ts'
import { startSpawned } from '../../fixtures/spawned-wharf.ts'
import { onTestPostgres } from '../../fixtures/test-storage.ts'

/** Generous: each request here takes milliseconds; the backtracking pattern takes hours. */
const hangMs = 20_000
const schemaContentType = 'application/vnd.schemaregistry.v1+json'

/** A reply: Confluent's {error_code, message} on errors, anything else on success. */
type Reply = { status: number; json: { error_code?: number; message?: string } & Record<string, unknown> }

async function call(url: string, method: string, body?: unknown): Promise<Reply> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': body === undefined ? 'text/plain' : schemaContentType },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(hangMs),
  })
  const text = await response.text()
  return { status: response.status, json: text === '' ? {} : JSON.parse(text) }
}

function register(base: string, subject: string, schema: string): Promise<Reply> {
  return call(`${base}/subjects/${subject}/versions`, 'POST', { schemaType: 'JSON', schema })
}

test('a record against a ^(a+)+$ pattern is judged at once and the broker keeps answering', {
  timeout: 3 * hangMs,
}, async (t) => {
  const { ports } = await startSpawned(t, ['http'])
  const base = `http://127.0.0.1:${ports.http}`
  const schema = {
    type: 'object',
    properties: { name: { type: 'string', pattern: '^(a+)+$' } },
    patternProperties: { '^(x+x+)+y$': { type: 'string' } },
  }
  const registered = await register(base, 'names-value', JSON.stringify(schema))
  assert.equal(registered.status, 200, JSON.stringify(registered.json))
  assert.equal(
    (await call(`${base}/api/v1/streams`, 'POST', { name: 'names', schemaSubject: 'names-value' })).status,
    201,
  )

  const produce = (value: unknown) => call(`${base}/api/v1/streams/names/messages`, 'POST', { messages: [{ value }] })
  const evil = `${'a'.repeat(40)}!`
  const [bad, badKey, subjects] = await Promise.all([
    produce({ name: evil }),
    produce({ [`${'x'.repeat(40)}`]: 'v' }),
    call(`${base}/subjects`, 'GET'),
  ])
  assert.equal(bad.status, 422, JSON.stringify(bad.json))
  assert.equal(badKey.status, 200, 'a key the property pattern does not match is just another property')
  assert.deepEqual(subjects.json, ['names-value'])
  const good = await produce({ name: 'aaaa' })
  assert.equal(good.status, 200, JSON.stringify(good.json))
})

test('a pattern RE2 cannot run in linear time (lookaround, backreference) is an invalid schema', {
  timeout: 2 * hangMs,
}, async (t) => {
  const { ports } = await startSpawned(t, ['http'])
  const base = `http://127.0.0.1:${ports.http}`
  for (const pattern of ['^(?=a)a+$', '^(a)\\1$']) {
    const result = await register(base, 'p', JSON.stringify({ type: 'string', pattern }))
    assert.equal(result.status, 422, pattern)
    assert.equal(result.json.error_code, 42201)
  }
})

test('schema size and nesting limits answer 422 / 42201 and are configurable', { timeout: 2 * hangMs }, async (t) => {
  const { ports } = await startSpawned(t, ['http'], {
    args: ['--schema-bytes-max', '4000', '--schema-depth-max', '20'],
  })
  const base = `http://127.0.0.1:${ports.http}`
  const sized = (bytes: number) => {
    const head = '{"type":"string","description":"'
    return `${head}${'x'.repeat(bytes - head.length - 2)}"}`
  }
  assert.equal((await register(base, 'small', sized(4000))).status, 200)
  const big = await register(base, 'big', sized(4001))
  assert.equal(big.status, 422)
  assert.equal(big.json.error_code, 42201)
  assert.match(big.json.message ?? '', /4001 bytes/)

  const nested = (levels: number) =>
    `${'{"type":"object","properties":{"a":'.repeat(levels)}{"type":"string"}${'}}'.repeat(levels)}`
  assert.equal((await register(base, 'nested', nested(9))).status, 200, '19 levels of JSON')
  for (const levels of [10, 5000]) {
    const deep = await register(base, 'deep', nested(levels))
    assert.equal(deep.status, 422, `${levels} nested properties`)
    assert.equal(deep.json.error_code, 42201)
  }
  const deepAvro = await call(`${base}/subjects/avro/versions`, 'POST', {
    schema: `${'{"type":"array","items":'.repeat(5000)}"string"${'}'.repeat(5000)}`,
  })
  assert.equal(deepAvro.status, 422)
  assert.equal(deepAvro.json.error_code, 42201)
  // The same checks answer the lookup and compatibility endpoints.
  const lookup = await call(`${base}/subjects/small`, 'POST', { schemaType: 'JSON', schema: nested(5000) })
  assert.equal(lookup.status, 422)
})

test('a $ref cycle on the same value is refused at registration; recursion into children is fine', {
  timeout: 2 * hangMs,
}, async (t) => {
  const { ports } = await startSpawned(t, ['http'])
  const base = `http://127.0.0.1:${ports.http}`
  const cycles = [
    { $ref: '#' },
    { definitions: { a: { $ref: '#/definitions/a' } }, $ref: '#/definitions/a' },
    {
      definitions: {
        a: { allOf: [{ $ref: '#/definitions/b' }] },
        b: { anyOf: [{ type: 'string' }, { $ref: '#/definitions/a' }] },
      },
      $ref: '#/definitions/a',
    },
    {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $defs: { n: { $anchor: 'node', not: { $ref: '#node' } } },
      $ref: '#node',
    },
    { type: 'object', if: { $ref: '#' } },
  ]
  for (const schema of cycles) {
    const result = await register(base, 'cyclic', JSON.stringify(schema))
    assert.equal(result.status, 422, JSON.stringify(schema))
    assert.equal(result.json.error_code, 42201)
  }
  assert.deepEqual((await call(`${base}/subjects`, 'GET')).json, [])

  const tree = {
    type: 'object',
    properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } },
    required: ['name'],
  }
  assert.equal((await register(base, 'tree-value', JSON.stringify(tree))).status, 200)
  assert.equal(
    (await call(`${base}/api/v1/streams`, 'POST', { name: 'tree', schemaSubject: 'tree-value' })).status,
    201,
  )
  const produce = (value: unknown) => call(`${base}/api/v1/streams/tree/messages`, 'POST', { messages: [{ value }] })
  assert.equal((await produce({ name: 'root', children: [{ name: 'leaf', children: [] }] })).status, 200)
  assert.equal((await produce({ name: 'root', children: [{ children: [] }] })).status, 422)
})

test('a self-referencing schema stored by an earlier release fails its records with 422, not 500', {
  timeout: 2 * hangMs,
  // It writes the old catalog entries with the local engine's own store, into the data dir.
  skip: onTestPostgres() ? 'seeds the local engine: not with WHARF_TEST_STORAGE' : false,
}, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'wharf-registry-old-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const dataDir = join(root, 'data')
  // What the registry stored when it accepted the schema: the catalog entries, written directly.
  const storage = await openStorage(dataDir)
  const schema = '{"$ref":"#"}'
  await storage.metadata.put('schema', '1', { schemaType: 'JSON', schema, references: [], key: `JSON\n${schema}\n[]` })
  await storage.metadata.put('schema-subject', 'old-value', { versions: [{ version: 1, id: 1, deleted: false }] })
  await storage.metadata.put('schema-global', 'state', { compatibility: 'BACKWARD', nextId: 2 })
  await storage.close()

  const { ports } = await startSpawned(t, ['http'], { dataDir })
  const base = `http://127.0.0.1:${ports.http}`
  assert.deepEqual((await call(`${base}/subjects`, 'GET')).json, ['old-value'])
  const created = await call(`${base}/api/v1/streams`, 'POST', { name: 'old', schemaSubject: 'old-value' })
  assert.equal(created.status, 201)
  const produced = await call(`${base}/api/v1/streams/old/messages`, 'POST', { messages: [{ value: { a: 1 } }] })
  assert.equal(produced.status, 422, JSON.stringify(produced.json))
  assert.match(JSON.stringify(produced.json), /cannot be used/)
})
