// Whether an HTTP request (or WebSocket upgrade) was sent by a page of another origin. A browser attaches
// cookies and cached Basic credentials to a request another site makes, and with anonymous access there are
// no credentials to forge: such requests get no anonymous access on any surface of the HTTP port (the admin
// API's writes, SQS and SNS, MQTT over WebSocket).
import type { IncomingHttpHeaders } from 'node:http'

/** A request sent by a page of another origin (another site, or another port of this host). */
export function crossOrigin(headers: IncomingHttpHeaders): boolean {
  const site = headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true
  const origin = headers.origin
  if (origin === undefined) return false
  try {
    return new URL(origin).host !== headers.host
  } catch {
    return true
  }
}
