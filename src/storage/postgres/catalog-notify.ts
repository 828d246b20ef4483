// The payload of a catalog change announcement (NOTIFY wharf_catalog): names only, never the document, since
// PostgreSQL caps a payload below 8000 bytes and the listener re-reads the row anyway. A change the payload
// cannot name exactly still announces what to re-read, coarser:
//   '<kind>/<name>'  one document (the name may contain '/'; the kind never does in this form)
//   '<kind>'         every document of that kind (the name is too long, or not representable as text)
//   ''               the whole catalog (not even the kind is representable)

export const CATALOG_CHANNEL = 'wharf_catalog'

/** PostgreSQL refuses payloads of 8000 bytes or more (the default build); kept under with margin. */
export const NOTIFY_PAYLOAD_BYTES_MAX = 7900

export type CatalogChange = { kind: string; name: string } | { kind: string; name?: undefined } | { kind?: undefined }

/** Text PostgreSQL can carry as is: no NUL, and a JS string that survives UTF-8 (no lone surrogates). */
function representable(text: string): boolean {
  return !text.includes('\u0000') && Buffer.from(text).toString() === text
}

export function encodeChange(kind: string, name: string): string {
  if (kind === '' || kind.includes('/') || !representable(kind) || Buffer.byteLength(kind) > NOTIFY_PAYLOAD_BYTES_MAX)
    return ''
  const payload = `${kind}/${name}`
  if (!representable(name) || Buffer.byteLength(payload) > NOTIFY_PAYLOAD_BYTES_MAX) return kind
  return payload
}

export function decodeChange(payload: string): CatalogChange {
  if (payload === '') return {}
  const slash = payload.indexOf('/')
  if (slash < 0) return { kind: payload }
  return { kind: payload.slice(0, slash), name: payload.slice(slash + 1) }
}
