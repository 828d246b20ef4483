// Schema registry subjects and versions, through the Confluent-compatible registry API. That API lists
// all subjects at once (it has no paging), so this page pages and filters the list locally.
import { api } from '../lib/api.js'
import { field, h, link, props, table } from '../lib/dom.js'
import { PAGE_SIZE } from '../lib/list.js'

const href = (name) => `#/schemas/${encodeURIComponent(name)}`

export function render(route) {
  return route.name === undefined ? renderList(route) : renderDetail(route, route.name)
}

async function renderList(route) {
  const subjects = await api.registry('/subjects')
  let q = route.query.get('q') ?? ''
  let offset = 0
  const body = h('div', {})
  const count = h('span', { class: 'count', 'aria-live': 'polite' })
  const prev = h(
    'button',
    { type: 'button', class: 'secondary', onclick: () => show(offset - PAGE_SIZE) },
    'Previous page',
  )
  const next = h('button', { type: 'button', class: 'secondary', onclick: () => show(offset + PAGE_SIZE) }, 'Next page')
  const filter = h('input', { type: 'search', value: q, autocomplete: 'off' })
  filter.addEventListener('input', () => {
    q = filter.value.trim()
    route.setQuery({ q })
    show(0)
  })
  function show(to) {
    const matching = subjects.filter((s) => s.toLowerCase().includes(q.toLowerCase()))
    offset = Math.max(0, Math.min(to, matching.length - 1))
    const rows = matching.slice(offset, offset + PAGE_SIZE)
    body.replaceChildren(
      table({ columns: [{ label: 'Subject', value: (s) => link(href(s), s) }], rows, empty: 'No subjects.' }),
    )
    count.textContent = matching.length ? `${offset + 1}–${offset + rows.length} of ${matching.length}` : '0 subjects'
    prev.disabled = offset === 0
    next.disabled = offset + PAGE_SIZE >= matching.length
  }
  show(0)
  return h(
    'div',
    {},
    h('h1', {}, 'Schema subjects'),
    h(
      'form',
      { class: 'inline', role: 'search', onsubmit: (e) => e.preventDefault() },
      field('Filter subjects', filter),
    ),
    body,
    h('nav', { class: 'pager', 'aria-label': 'Pages' }, prev, count, next),
  )
}

async function renderDetail(route, subject) {
  const versions = await api.registry(`/subjects/${api.enc(subject)}/versions`)
  const chosen = route.query.get('version') ?? String(versions[versions.length - 1] ?? 'latest')
  const schema = await api.registry(`/subjects/${api.enc(subject)}/versions/${api.enc(chosen)}`)
  let pretty = schema.schema
  try {
    pretty = JSON.stringify(JSON.parse(schema.schema), null, 2)
  } catch {}
  return h(
    'div',
    {},
    h('p', { class: 'crumbs' }, link('#/schemas', 'Schema subjects'), ' / '),
    h('h1', {}, subject),
    h(
      'nav',
      { 'aria-label': 'Versions' },
      h(
        'ul',
        { class: 'inline-list' },
        versions.map((v) =>
          h(
            'li',
            {},
            link(`${href(subject)}?version=${v}`, `version ${v}`),
            String(v) === String(schema.version) ? ' (shown)' : '',
          ),
        ),
      ),
    ),
    props([
      ['Version', String(schema.version)],
      ['Schema id', String(schema.id)],
      ['Type', schema.schemaType ?? 'AVRO'],
    ]),
    h('h2', {}, 'Schema'),
    h('pre', { class: 'schema' }, pretty),
  )
}
