// Whether a request was sent by a page of another origin. A browser attaches cookies and cached Basic
// credentials to a form another site posts, and with anonymous access there are no credentials to forge:
// such writes are refused on every surface of the HTTP listener (auth.ts for its own, aws/ for SQS and SNS,
// which answer no CORS and so serve no legitimate cross-origin page).
import type { FastifyRequest } from 'fastify'

/** A request sent by a page of another origin (another site, or another port of this host). */
export function crossOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true
  const origin = request.headers.origin
  if (origin === undefined) return false
  try {
    return new URL(origin).host !== request.headers.host
  } catch {
    return true
  }
}
