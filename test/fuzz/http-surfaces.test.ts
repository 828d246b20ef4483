// Hostile bodies into every HTTP decoder over real sockets: SQS JSON 1.0 (each action), the SQS/SNS query
// forms, schema-registry schemas (JSON Schema and Avro, as strings inside the Confluent JSON body), and the
// REST admin bodies. Inputs are structure-aware mutations (fast-check) of valid requests: values replaced by
// other JSON types, deep nesting, huge numbers, truncation, byte flips, and random bytes. Checked after every
// input: the answer is the service's own error or a success (never a 5xx, never a dropped connection), and
// after each surface the listener still serves a valid request. WHARF_LONG=1 runs 1,000,000 inputs per
// surface instead of 200 (over loopback: hours, not minutes).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { startHarness } from '../protocols/http/helpers.ts'
import { adminSeeds, sqsJsonSeeds as jsonSeeds, registrySeeds, snsQueryForms, sqsQueryForms } from './http-seeds.ts'
import { hostileJson, mutateJson } from './json-mutations.ts'
import { damagedBytes } from './mutations.ts'

// WHARF_FUZZ_RUNS overrides the count (a medium run between the two modes).
const runs = Number(process.env.WHARF_FUZZ_RUNS) || (process.env.WHARF_LONG === '1' ? 1_000_000 : 200)

function damaged(seed: string): fc.Arbitrary<Buffer> {
  return damagedBytes(Buffer.from(seed))
}

async function post(url: string, headers: Record<string, string>, body: Buffer | string): Promise<number> {
  const response = await fetch(url, { method: 'POST', headers, body })
  await response.arrayBuffer()
  return response.status
}

function assertServiceAnswer(status: number, what: string): void {
  assert.ok(status >= 200 && status < 500, `${what}: got ${status}`)
}

test(`SQS JSON 1.0 actions: ${runs} structurally hostile bodies per run, only 2xx/4xx`, async (t) => {
  const { url } = await startHarness(t)
  await post(
    `${url}/`,
    { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.CreateQueue' },
    jsonSeeds[0]!.body,
  )
  await fc.assert(
    fc.asyncProperty(
      fc.nat(jsonSeeds.length - 1),
      fc.array(fc.nat(20), { maxLength: 4 }),
      hostileJson(),
      fc.boolean(),
      async (i, path, replacement, raw) => {
        const seed = jsonSeeds[i]!
        const headers = { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${seed.action}` }
        const body = JSON.stringify(mutateJson(JSON.parse(seed.body), path, replacement))
        assertServiceAnswer(await post(`${url}/`, headers, body), `${seed.action} ${body.slice(0, 200)}`)
        if (raw) {
          const bytes = fc.sample(damaged(seed.body), 1)[0]!
          assertServiceAnswer(await post(`${url}/`, headers, bytes), `${seed.action} damaged`)
        }
      },
    ),
    { numRuns: runs },
  )
  const ok = await post(
    `${url}/`,
    { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ListQueues' },
    '{}',
  )
  assert.equal(ok, 200, 'still serving')
})

test(`SQS and SNS query forms: ${runs} damaged forms, only 2xx/4xx`, async (t) => {
  const { url } = await startHarness(t)
  const forms = [...sqsQueryForms, ...snsQueryForms]
  const headers = { 'content-type': 'application/x-www-form-urlencoded' }
  for (const form of forms) await post(`${url}/`, headers, form)
  await fc.assert(
    fc.asyncProperty(
      fc.nat(forms.length - 1).chain((i) => damaged(forms[i]!)),
      async (body) => {
        assertServiceAnswer(await post(`${url}/`, headers, body), `form ${body.toString('latin1').slice(0, 200)}`)
      },
    ),
    { numRuns: runs },
  )
  assert.equal(await post(`${url}/`, headers, 'Action=ListQueues&Version=2012-11-05'), 200, 'still serving')
})

test(`schema registry: ${runs} hostile JSON Schema and Avro schemas, only 2xx/4xx`, async (t) => {
  const { url } = await startHarness(t)
  const headers = { 'content-type': 'application/vnd.schemaregistry.v1+json' }
  const seeds = registrySeeds
  await fc.assert(
    fc.asyncProperty(
      fc.nat(seeds.length - 1),
      fc.array(fc.nat(20), { maxLength: 5 }),
      hostileJson(),
      fc.boolean(),
      async (i, path, replacement, damage) => {
        const seed = seeds[i]!
        const schema = JSON.stringify(mutateJson(JSON.parse(seed.schema), path, replacement))
        const body = JSON.stringify({ ...seed, schema })
        const status = await post(
          `${url}/subjects/fz-${i}/versions`,
          headers,
          damage ? fc.sample(damaged(body), 1)[0]! : body,
        )
        assertServiceAnswer(status, `schema ${body.slice(0, 200)}`)
      },
    ),
    { numRuns: runs },
  )
  const ok = await post(`${url}/subjects/fz-ok/versions`, headers, JSON.stringify(seeds[1]))
  assert.equal(ok, 200, 'still serving')
})

test(`REST admin bodies: ${runs} hostile bodies for streams, queues, exchanges, bindings, messages`, async (t) => {
  const { url } = await startHarness(t)
  const headers = { 'content-type': 'application/json' }
  const seeds = adminSeeds
  for (const [path, body] of seeds) await post(`${url}${path}`, headers, JSON.stringify(body))
  await fc.assert(
    fc.asyncProperty(
      fc.nat(seeds.length - 1),
      fc.array(fc.nat(20), { maxLength: 4 }),
      hostileJson(),
      async (i, path, replacement) => {
        const [route, seed] = seeds[i]!
        const body = JSON.stringify(mutateJson(seed, path, replacement))
        assertServiceAnswer(await post(`${url}${route}`, headers, body), `${route} ${body.slice(0, 200)}`)
      },
    ),
    { numRuns: runs },
  )
  const overview = await fetch(`${url}/api/v1/overview`)
  assert.equal(overview.status, 200, 'still serving')
})
