// AWS query protocol codec (sans-I/O): form bodies in, XML out. Maps and lists arrive flattened
// (`Attributes.entry.1.key=…&Attributes.entry.1.value=…`, `Entries.member.1.Id=…`); replies are
// `<{Action}Response xmlns=…><{Action}Result>…</{Action}Result><ResponseMetadata>…` documents.

export const FORM_FIELDS_MAX = 2000

export class QueryParseError extends Error {}

export function parseForm(body: string): Map<string, string> {
  const params = new URLSearchParams(body)
  const out = new Map<string, string>()
  for (const [key, value] of params) {
    if (out.size >= FORM_FIELDS_MAX) throw new QueryParseError(`more than ${FORM_FIELDS_MAX} form fields`)
    out.set(key, value)
  }
  return out
}

/**
 * The request's fields: the URL's query parameters and the form body (which wins where both name a field).
 * Presigned requests carry everything, action fields included, in the URL.
 */
export function parseRequestForm(body: string, url: string): Map<string, string> {
  const at = url.indexOf('?')
  const query = at === -1 ? '' : url.slice(at + 1)
  return parseForm(query === '' ? body : body === '' ? query : `${query}&${body}`)
}

/** Indexes N present under `prefix.N.` (1-based, sorted), bounded by the field count. */
function indexes(params: Map<string, string>, prefix: string): number[] {
  const found = new Set<number>()
  const head = `${prefix}.`
  for (const key of params.keys()) {
    if (!key.startsWith(head)) continue
    const n = Number(key.slice(head.length).split('.')[0])
    if (Number.isInteger(n) && n >= 1) found.add(n)
  }
  return [...found].sort((a, b) => a - b)
}

/** `Attributes.entry.N.key/value` → object. */
export function flatMap(
  params: Map<string, string>,
  prefix: string,
  keyName = 'key',
  valueName = 'value',
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const n of indexes(params, prefix)) {
    const key = params.get(`${prefix}.${n}.${keyName}`)
    const value = params.get(`${prefix}.${n}.${valueName}`)
    if (key !== undefined && value !== undefined) out[key] = value
  }
  return out
}

/** `Prefix.member.N.Field` → one sub-map per member, with field names relative to the member. */
export function members(params: Map<string, string>, prefix: string): Array<Map<string, string>> {
  return indexes(params, prefix).map((n) => {
    const head = `${prefix}.${n}.`
    const member = new Map<string, string>()
    for (const [key, value] of params) if (key.startsWith(head)) member.set(key.slice(head.length), value)
    return member
  })
}

export function escapeXml(text: string): string {
  return text.replace(
    /[<>&'"\r]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;', '\r': '&#13;' })[c]!,
  )
}

export type XmlValue = string | number | boolean | undefined | null | XmlValue[] | { [key: string]: XmlValue }

/** Objects become elements in key order; arrays become repeated <member> elements. */
export function toXml(value: XmlValue): string {
  if (value === undefined || value === null) return ''
  if (Array.isArray(value)) return value.map((v) => `<member>${toXml(v)}</member>`).join('')
  if (typeof value === 'object') {
    let out = ''
    for (const [key, v] of Object.entries(value))
      if (v !== undefined && v !== null) out += `<${key}>${toXml(v)}</${key}>`
    return out
  }
  return escapeXml(String(value))
}

/** Attribute maps are `<entry><key/><value/></entry>` lists in query XML. */
export function entries(map: Record<string, string>): string {
  return Object.entries(map)
    .map(([k, v]) => `<entry><key>${escapeXml(k)}</key><value>${escapeXml(v)}</value></entry>`)
    .join('')
}

export function responseXml(namespace: string, action: string, resultXml: string | null, requestId: string): string {
  const result = resultXml === null ? '' : `<${action}Result>${resultXml}</${action}Result>`
  return `<?xml version="1.0"?>\n<${action}Response xmlns="${namespace}">${result}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
}

export function errorXml(
  namespace: string,
  type: 'Sender' | 'Receiver',
  code: string,
  message: string,
  requestId: string,
): string {
  return `<?xml version="1.0"?>\n<ErrorResponse xmlns="${namespace}"><Error><Type>${type}</Type><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
}
