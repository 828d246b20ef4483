// Message tables for stream browse and queue peek, and the produce form shared by both.
import { decodeBase64, field, fmt, h, renderBytes, showError, table } from './dom.js'

/**
 * Messages as the API returns them with encoding=base64; `format` is decoded | text | json | hex.
 * "decoded" shows the API's keyDecoded/valueDecoded (Confluent-framed records whose schema id the
 * registry knows) and falls back to text for everything else, so it is a safe default.
 */
export function messageTable(messages, format, caption, showInternal = false) {
  return table({
    caption,
    rows: messages,
    empty: 'No messages in this range.',
    columns: [
      { label: 'Partition', value: (m) => String(m.partition), num: true },
      { label: 'Offset', value: (m) => String(m.offset), num: true, header: false },
      { label: 'Timestamp', value: (m) => fmt.time(m.timestamp) },
      {
        label: 'Key',
        value: (m) =>
          format === 'decoded' && m.keyDecoded
            ? renderDecoded(m.keyDecoded)
            : renderBytes(decodeBase64(m.key), format === 'hex' ? 'hex' : 'text'),
      },
      { label: 'Properties and headers', value: (m) => renderHeaders(m, showInternal) },
      {
        label: 'Value',
        value: (m) =>
          format === 'decoded'
            ? m.valueDecoded
              ? renderDecoded(m.valueDecoded)
              : renderBytes(decodeBase64(m.value), 'text')
            : renderBytes(decodeBase64(m.value), format),
      },
    ],
  })
}

/** Wharf's own record headers: reserved `wharf.*` ones and a protocol's stored property bytes (`amqp.props`). */
export const isInternalHeader = (name) => name.startsWith('wharf.') || name === 'amqp.props'

/**
 * The publishing protocol's properties by name (AMQP: content-type, delivery-mode, correlation-id, the
 * headers table…), then the record headers; Wharf's internal headers only when asked for.
 */
function renderHeaders(m, showInternal) {
  const lines = []
  const { protocol, headers: table, ...properties } = m.properties ?? {}
  for (const [k, v] of Object.entries(properties)) lines.push(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
  for (const [k, v] of Object.entries(table ?? {})) lines.push(`headers.${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
  const own = Object.entries(m.headers ?? {}).filter(([k]) => showInternal || !isInternalHeader(k))
  const hidden = Object.keys(m.headers ?? {}).filter(isInternalHeader).length
  if (lines.length === 0 && own.length === 0)
    return hidden > 0 ? h('span', { class: 'empty' }, `${hidden} internal`) : '—'
  return h(
    'div',
    { class: 'headers' },
    lines.length > 0 ? h('small', {}, `${protocol ?? 'protocol'} properties`) : null,
    lines.length > 0 ? h('pre', { 'data-part': 'properties' }, lines.join('\n')) : null,
    own.length > 0
      ? h(
          'pre',
          { 'data-part': 'headers' },
          // The stored AMQP property bytes are binary: named, not printed (the properties above are their text).
          own.map(([k, v]) => (k === 'amqp.props' ? `${k}: (binary, the properties above)` : `${k}: ${v}`)).join('\n'),
        )
      : null,
  )
}

/** The "show internal headers" switch beside a message table; `onChange` re-renders the table. */
export function internalHeadersToggle(onChange) {
  const box = h('input', { type: 'checkbox', name: 'internal', onchange: () => onChange(box.checked) })
  return { element: field('Show internal headers (wharf.*)', box), get checked() { return box.checked } }
}

/** A schema-decoded key or value: which schema, then the JSON, or why the payload did not decode. */
function renderDecoded(d) {
  const origin = `${d.type === 'JSON' ? 'JSON Schema' : 'Avro'} · ${d.subject ?? 'no subject'} · schema id ${d.schemaId}`
  return h(
    'div',
    { class: 'decoded' },
    h('small', {}, origin),
    d.error === undefined
      ? h('pre', {}, JSON.stringify(d.json, null, 2))
      : h('pre', { class: 'error' }, `Cannot decode: ${d.error}`),
  )
}

const FORMATS = [
  ['decoded', 'decoded (schema)'],
  ['text', 'text'],
  ['json', 'JSON'],
  ['hex', 'hex'],
]

export function formatSelect(value = 'decoded') {
  return h(
    'select',
    { name: 'format' },
    FORMATS.map(([f, label]) => h('option', { value: f, selected: f === value }, label)),
  )
}

/** Parses "name: value" lines into a headers object. */
export function parseHeaders(text) {
  const headers = {}
  for (const line of text.split('\n')) {
    const trimmed = line.trim()
    if (trimmed === '') continue
    const colon = trimmed.indexOf(':')
    if (colon <= 0) throw new Error(`header line “${trimmed}” is not “name: value”`)
    headers[trimmed.slice(0, colon).trim()] = trimmed.slice(colon + 1).trim()
  }
  return headers
}

/** A produce/send form; `send(message)` posts one message in the admin API's shape (encoding text). */
export function produceForm({ partitions, send, label = 'Produce' }) {
  const key = h('input', { type: 'text', name: 'key', autocomplete: 'off' })
  const value = h('textarea', { name: 'value', rows: '4' })
  const headers = h('textarea', { name: 'headers', rows: '2', placeholder: 'content-type: application/json' })
  const partition =
    partitions === undefined
      ? null
      : h(
          'select',
          { name: 'partition' },
          h('option', { value: '' }, 'by key / round robin'),
          Array.from({ length: partitions }, (_, p) => h('option', { value: String(p) }, String(p))),
        )
  const submit = h('button', { type: 'submit' }, label)
  const form = h(
    'form',
    { class: 'stack' },
    partition ? field('Partition', partition) : null,
    field('Key (optional)', key),
    field('Headers (one “name: value” per line)', headers),
    field('Value', value),
    h('div', {}, submit),
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const message = { value: value.value, encoding: 'text' }
    if (key.value !== '') message.key = key.value
    if (partition && partition.value !== '') message.partition = Number(partition.value)
    submit.disabled = true
    try {
      message.headers = parseHeaders(headers.value)
      await send(message)
      value.value = ''
    } catch (error) {
      showError(error)
    } finally {
      submit.disabled = false
    }
  })
  return form
}
