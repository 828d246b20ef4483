// Client quotas on the Kafka wire (the configuration and the rates are broker.quotas'): every request's
// handling time counts against the request-time quota, Produce request bytes and Fetch response bytes against
// the byte-rate quotas. A client over one gets Kafka's throttle semantics: the response carries
// throttle_time_ms, and the connection is not read for that long (Kafka mutes the channel). Since KIP-219
// (Produce v6+, Fetch v8+) the response goes out at once and the client waits on its own too; older versions
// get the response only after the throttle time, as Kafka answers them. As in Kafka, a throttled Fetch is
// answered without records (they are not counted; the client fetches them again), and a Fetch under a byte-rate
// quota asks for at most what the quota allows over the window, so one fetch cannot throttle itself forever.
import type { Quotas } from '../../broker/quotas/quotas.js'
import type { QuotaClient } from '../../broker/quotas/types.js'
import { ANONYMOUS } from '../../broker/security/authorizer.js'
import {
  ApiKey,
  type FetchRequest,
  type FetchResponse,
  type ProduceRequest,
  type RequestHeader,
} from './codec/index.js'
import type { Connection, Handler } from './connection.js'

/** APIs that come before a principal is known; Kafka exempts them from request quotas too. */
const exempt = new Set<number>([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate])

/** The oldest version whose client throttles itself from throttle_time_ms (KIP-219); older: delayed answers. */
const selfThrottlingFrom = new Map<number, number>([
  [ApiKey.Produce, 6],
  [ApiKey.Fetch, 8],
])

const NO_RECORDS = Buffer.alloc(0)

function quotaClient(c: Connection, header: RequestHeader): QuotaClient {
  // Kafka's unauthenticated principal is User:ANONYMOUS; user quotas with a default apply to it too.
  return { user: c.principal?.name ?? ANONYMOUS, clientId: header.clientId ?? '' }
}

function produceBytes(req: ProduceRequest): number {
  let bytes = 0
  for (const topic of req.topicData) for (const p of topic.partitionData) bytes += p.records?.length ?? 0
  return bytes
}

function fetchBytes(res: FetchResponse): number {
  let bytes = 0
  for (const topic of res.responses) {
    for (const p of topic.partitions) {
      const records = p.records
      if (Array.isArray(records)) for (const chunk of records) bytes += chunk.length
      else bytes += records?.length ?? 0
    }
  }
  return bytes
}

function isFetchResponse(response: unknown): response is FetchResponse {
  return typeof response === 'object' && response !== null && 'responses' in response
}

/** Counts a finished request's bytes; returns the throttle time it earns (a throttled Fetch loses its records). */
function byteThrottle(quotas: Quotas, client: QuotaClient, apiKey: number, request: unknown, response: unknown) {
  if (apiKey === ApiKey.Produce) {
    return quotas.record('produceBytesPerSecond', client, produceBytes(request as ProduceRequest))
  }
  if (apiKey !== ApiKey.Fetch || !isFetchResponse(response)) return 0
  const bytes = fetchBytes(response)
  const throttle = quotas.record('fetchBytesPerSecond', client, bytes)
  if (throttle > 0) {
    quotas.record('fetchBytesPerSecond', client, -bytes)
    for (const topic of response.responses) for (const p of topic.partitions) p.records = NO_RECORDS
  }
  return throttle
}

/** The handler of `apiKey` with quotas measured and applied around it. */
export function withQuotas(apiKey: number, handler: Handler): Handler {
  if (exempt.has(apiKey)) return handler
  return (c, request, version, header) => {
    const quotas = c.server.broker.quotas
    if (quotas.none) return handler(c, request, version, header)
    const client = quotaClient(c, header)
    if (apiKey === ApiKey.Fetch) {
      const limit = quotas.limitFor(client, 'fetchBytesPerSecond')
      const fetch = request as FetchRequest
      if (limit !== undefined) fetch.maxBytes = Math.min(fetch.maxBytes ?? Infinity, quotas.bytesPerWindow(limit))
    }
    const started = performance.now()
    const result = handler(c, request, version, header)
    // The time the event loop spent on this request (its synchronous part: decoding is done, I/O waits are not).
    const requestThrottle = quotas.record('requestPercentage', client, performance.now() - started)
    const finish = (response: unknown): unknown => {
      const throttle = Math.max(requestThrottle, byteThrottle(quotas, client, apiKey, request, response))
      if (throttle === 0 || c.isClosed) return response
      c.quotaMute.mute(throttle)
      if (typeof response === 'object' && response !== null && 'throttleTimeMs' in response) {
        const carried = response as { throttleTimeMs: number }
        carried.throttleTimeMs = Math.max(carried.throttleTimeMs, throttle)
      }
      const selfThrottling = selfThrottlingFrom.get(apiKey)
      if (selfThrottling === undefined || version >= selfThrottling) return response
      return new Promise((resolve) => setTimeout(() => resolve(response), throttle))
    }
    return result instanceof Promise ? result.then(finish) : finish(result)
  }
}
