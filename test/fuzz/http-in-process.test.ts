// Hostile requests into the HTTP surfaces in process, no sockets: the listener's own fastify app
// (buildHttpApp, every route and content parser) driven by `app.inject()`, so each input runs exactly the
// code a request over the wire runs — the SQS JSON 1.0 decoder and actions, the SQS and SNS query-form
// decoders, the schema registry's JSON Schema and Avro registration, the REST admin body validation.
// Inputs are fast-check structure-aware mutations of valid requests (json-mutations.ts) or byte damage
// (mutations.ts). Checked after every input: the answer is a success or the service's own error (a 4xx in
// its own shape); every route answers any other thrown error (TypeError, RangeError, stack overflow) with
// a 5xx and logs it, so no 5xx and no error logged means only the protocol's own error types were thrown.
// The heap after a forced GC is compared between the end of a warm-up and the end of the run.
// WHARF_LONG=1 runs 200,000 inputs per surface (1,000,000 in all) instead of 300.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { createBroker } from '../../src/index.ts'
import { buildHttpApp } from '../../src/protocols/http/listener.ts'
import { createLogger } from '../../src/util/logger.ts'
import { adminSeeds, registrySeeds, snsQueryForms, sqsJsonSeeds, sqsQueryForms } from './http-seeds.ts'
import { hostileJson, mutateJson } from './json-mutations.ts'
import { damagedBytes } from './mutations.ts'

const runs = Number(process.env.WHARF_FUZZ_RUNS) || (process.env.WHARF_LONG === '1' ? 200_000 : 300)
/** WHARF_FUZZ_SEED replays a reported run (fast-check prints the seed of a failure). */
const seed = process.env.WHARF_FUZZ_SEED === undefined ? undefined : Number(process.env.WHARF_FUZZ_SEED)
/** Heap growth allowed over a run, after GC: state the inputs legitimately create (queues, schema versions). */
const HEAP_GROWTH_MAX = 64 * 1024 * 1024

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

function heapAfterGc(): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

interface InProcess {
  app: FastifyInstance
  /** Error lines the routes logged: each is a thrown error that was not the service's own. */
  errors: string[]
}

async function inProcess(t: TestContext): Promise<InProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-fuzz-http-'))
  const broker = await createBroker({ dataDir, durability: 'never' })
  const errors: string[] = []
  const logger = createLogger({ level: 'error', format: 'json', destination: { write: (line) => errors.push(line) } })
  const { app } = await buildHttpApp({ broker, host: '127.0.0.1', port: 0, logger })
  await app.ready()
  t.after(async () => {
    await app.close()
    await broker.close()
    rmSync(dataDir, { recursive: true, force: true })
  })
  return { app, errors }
}

type Request = {
  method?: 'POST' | 'PUT' | 'DELETE'
  url: string
  headers: Record<string, string>
  payload: string | Buffer
}

async function answer(h: InProcess, request: Request): Promise<number> {
  const response = await h.app.inject({ method: request.method ?? 'POST', ...request })
  return response.statusCode
}

/** Runs `input` through the app `runs` times; fails on a 5xx or a logged error, reports inputs, time and heap. */
async function fuzz(
  t: TestContext,
  h: InProcess,
  input: fc.Arbitrary<Request>,
  after?: (request: Request, status: number) => Promise<void>,
): Promise<void> {
  const warmUp = Math.min(1000, Math.floor(runs / 10))
  let count = 0
  let heapWarm = 0
  const started = performance.now()
  await fc.assert(
    fc.asyncProperty(input, async (request) => {
      const status = await answer(h, request)
      count++
      // Taken per input: what one input logged must not fail the next (nor the shrinking).
      const logged = h.errors.splice(0)
      const body = request.payload.toString().slice(0, 200)
      assert.ok(status < 500, `${request.url} ${body}: ${status} ${logged.join('\n').slice(0, 2000)}`)
      assert.deepEqual(logged, [], `${request.url} ${body}`)
      await after?.(request, status)
      if (count === warmUp) heapWarm = heapAfterGc()
      // A long run says how far it got, so a run stopped early still reports its inputs.
      if (count % 20_000 === 0)
        process.stderr.write(`# ${t.name}: ${count} inputs, ${((performance.now() - started) / 1000).toFixed(0)} s\n`)
    }),
    { numRuns: runs, ...(seed === undefined ? {} : { seed }) },
  )
  const seconds = (performance.now() - started) / 1000
  const growth = heapAfterGc() - heapWarm
  t.diagnostic(`${count} inputs in ${seconds.toFixed(1)} s; heap after GC grew ${(growth / 1048576).toFixed(1)} MiB`)
  assert.equal(count, runs)
  assert.ok(growth < HEAP_GROWTH_MAX, `heap grew ${growth} bytes`)
}

const jsonHeaders = (action: string) => ({
  'content-type': 'application/x-amz-json-1.0',
  'x-amz-target': `AmazonSQS.${action}`,
})
const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' }

test(`SQS JSON 1.0 in process: ${runs} hostile bodies, only the service's own errors`, async (t) => {
  const h = await inProcess(t)
  const create = sqsJsonSeeds[0]!
  assert.equal(await answer(h, { url: '/', headers: jsonHeaders(create.action), payload: create.body }), 200)
  const seed = fc.constantFrom(...sqsJsonSeeds)
  const structural = fc
    .tuple(seed, fc.array(fc.nat(20), { maxLength: 4 }), hostileJson())
    .map(([s, path, replacement]) => ({
      url: '/',
      headers: jsonHeaders(s.action),
      payload: JSON.stringify(mutateJson(JSON.parse(s.body), path, replacement)),
    }))
  const damaged = seed.chain((s) =>
    damagedBytes(Buffer.from(s.body)).map((payload) => ({ url: '/', headers: jsonHeaders(s.action), payload })),
  )
  // Any action name, Object.prototype's included (fast-check favours `valueOf`, `__proto__`…).
  const named = fc
    .tuple(seed, fc.string({ maxLength: 20 }))
    .map(([s, action]) => ({ url: '/', headers: jsonHeaders(action), payload: s.body }))
  await fuzz(t, h, fc.oneof(structural, damaged, named))
})

test('names of Object.prototype are no SQS or SNS action (found by this fuzzer: they reached the prototype)', async (t) => {
  const h = await inProcess(t)
  for (const action of ['valueOf', 'toString', 'constructor', '__proto__', 'hasOwnProperty']) {
    const json = await h.app.inject({ method: 'POST', url: '/', headers: jsonHeaders(action), payload: '{}' })
    assert.equal(json.statusCode, 400, `SQS JSON ${action}`)
    assert.equal(json.json().__type, 'com.amazonaws.sqs#InvalidAction', `SQS JSON ${action}`)
    for (const version of ['2012-11-05', '2010-03-31']) {
      const form = `Action=${action}&Version=${version}`
      const query = await h.app.inject({ method: 'POST', url: '/', headers: formHeaders, payload: form })
      assert.equal(query.statusCode, 400, form)
      assert.match(query.body, /<Code>InvalidAction<\/Code>/, form)
    }
  }
  assert.deepEqual(h.errors, [])
})

test(`SQS query forms in process: ${runs} damaged forms, only the service's own errors`, async (t) => {
  const h = await inProcess(t)
  assert.equal(await answer(h, { url: '/', headers: formHeaders, payload: sqsQueryForms[0]! }), 200)
  const form = fc.constantFrom(...sqsQueryForms)
  const input = fc.oneof(
    form.chain((f) => damagedBytes(Buffer.from(f))),
    // Damage that keeps the form parseable: one field's value replaced, so the SQS decoder and actions see it.
    fc
      .tuple(form, fc.nat(20), fc.oneof(fc.string({ maxLength: 40 }), fc.constant('9'.repeat(400))))
      .map(([f, i, value]) => {
        const fields = f.split('&')
        const at = i % fields.length
        const name = fields[at]!.split('=')[0]!
        if (name !== 'Version') fields[at] = `${name}=${encodeURIComponent(value)}`
        return Buffer.from(fields.join('&'))
      }),
  )
  await fuzz(
    t,
    h,
    input.map((payload) => ({ url: '/', headers: formHeaders, payload })),
  )
})

test(`SNS query forms in process: ${runs} damaged forms, only the service's own errors`, async (t) => {
  const h = await inProcess(t)
  assert.equal(await answer(h, { url: '/', headers: formHeaders, payload: sqsQueryForms[0]! }), 200)
  for (const form of snsQueryForms) await answer(h, { url: '/', headers: formHeaders, payload: form })
  const form = fc.constantFrom(...snsQueryForms)
  const input = fc.oneof(
    form.chain((f) => damagedBytes(Buffer.from(f))),
    fc
      .tuple(form, fc.nat(20), fc.oneof(fc.string({ maxLength: 40 }), fc.json({ maxDepth: 3 })))
      .map(([f, i, value]) => {
        const fields = f.split('&')
        const at = i % fields.length
        const name = fields[at]!.split('=')[0]!
        fields[at] = `${name}=${encodeURIComponent(value)}`
        return Buffer.from(fields.join('&'))
      }),
  )
  await fuzz(
    t,
    h,
    input.map((payload) => ({ url: '/', headers: formHeaders, payload })),
  )
})

test(`schema registry in process: ${runs} hostile JSON Schema and Avro registrations`, async (t) => {
  const h = await inProcess(t)
  const headers = { 'content-type': 'application/vnd.schemaregistry.v1+json' }
  const input = fc
    .tuple(fc.nat(registrySeeds.length - 1), fc.array(fc.nat(20), { maxLength: 5 }), hostileJson(), fc.boolean())
    .chain(([i, path, replacement, damage]) => {
      const seed = registrySeeds[i]!
      const schema = JSON.stringify(mutateJson(JSON.parse(seed.schema), path, replacement))
      const body = JSON.stringify({ ...seed, schema })
      const url = `/subjects/fz-${i}/versions`
      return (damage ? damagedBytes(Buffer.from(body)) : fc.constant(body)).map((payload) => ({
        url,
        headers,
        payload,
      }))
    })
  // A schema registered is kept until its subject is deleted for good: deleted here so that the heap
  // measures the decoders, not the schemas the fuzzer stored.
  await fuzz(t, h, input, async (request, status) => {
    if (status !== 200) return
    const subject = request.url.replace('/versions', '')
    assert.equal(await answer(h, { method: 'DELETE', url: subject, headers: {}, payload: '' }), 200)
    const permanent = { method: 'DELETE' as const, url: `${subject}?permanent=true`, headers: {}, payload: '' }
    assert.equal(await answer(h, permanent), 200)
  })
})

test(`REST admin bodies in process: ${runs} hostile bodies for streams, queues, exchanges, bindings, messages`, async (t) => {
  const h = await inProcess(t)
  const headers = { 'content-type': 'application/json' }
  for (const [url, body] of adminSeeds) await answer(h, { url, headers, payload: JSON.stringify(body) })
  const input = fc
    .tuple(fc.nat(adminSeeds.length - 1), fc.array(fc.nat(20), { maxLength: 4 }), hostileJson(), fc.boolean())
    .chain(([i, path, replacement, damage]) => {
      const [url, seed] = adminSeeds[i]!
      const body = JSON.stringify(mutateJson(seed, path, replacement))
      return (damage ? damagedBytes(Buffer.from(body)) : fc.constant(body)).map((payload) => ({
        url,
        headers,
        payload,
      }))
    })
  await fuzz(t, h, input)
})
