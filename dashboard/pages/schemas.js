// Schema registry subjects and versions, through the Confluent-compatible registry API. That API lists
// all subjects at once (it has no paging), so this page pages and filters the list locally.
import { api } from '../lib/api.js'
import { act, field, h, link, panel, props, table } from '../lib/dom.js'
import { PAGE_SIZE, pager, searchForm } from '../lib/list.js'

const href = (name) => `#/schemas/${encodeURIComponent(name)}`

export function render(route) {
  return route.name === undefined ? renderList(route) : renderDetail(route, route.name)
}

async function renderList(route) {
  const subjects = await api.registry('/subjects')
  let q = route.query.get('q') ?? ''
  let offset = 0
  const body = h('div', {})
  const pages = pager((step) => show(offset + step))
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
    pages.show(
      offset,
      matching.length,
      matching.length ? `${offset + 1}–${offset + rows.length} of ${matching.length}` : '0 subjects',
    )
  }
  show(0)
  return h(
    'div',
    {},
    h('h1', {}, 'Schema subjects'),
    searchForm('Filter subjects', filter),
    body,
    pages.element,
  )
}

function pretty(schema) {
  try {
    return JSON.stringify(JSON.parse(schema), null, 2)
  } catch {
    return schema
  }
}

/** Line diff (LCS); schemas are small, and the table is capped so a huge one cannot stall the page. */
function diffLines(a, b) {
  const x = a.split('\n').slice(0, 2000)
  const y = b.split('\n').slice(0, 2000)
  const dp = Array.from({ length: x.length + 1 }, () => new Uint16Array(y.length + 1))
  for (let i = x.length - 1; i >= 0; i--)
    for (let j = y.length - 1; j >= 0; j--)
      dp[i][j] = x[i] === y[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1])
  const out = []
  let i = 0
  let j = 0
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      out.push(['same', `  ${x[i]}`])
      i++
      j++
    } else if (j < y.length && (i === x.length || dp[i][j + 1] >= dp[i + 1][j])) out.push(['add', `+ ${y[j++]}`])
    else out.push(['del', `- ${x[i++]}`])
  }
  return out
}

async function renderDetail(route, subject) {
  const base = `/subjects/${api.enc(subject)}/versions`
  const versions = await api.registry(base)
  const chosen = route.query.get('version') ?? String(versions[versions.length - 1] ?? 'latest')
  const schema = await api.registry(`${base}/${api.enc(chosen)}`)

  const options = (selected) =>
    versions.map((v) => h('option', { value: String(v), selected: String(v) === String(selected) }, `version ${v}`))
  const left = h('select', { name: 'from' }, options(versions.length > 1 ? versions[versions.length - 2] : chosen))
  const right = h('select', { name: 'to' }, options(schema.version))
  const diffBox = h('div', { 'aria-live': 'polite' })
  const compare = h('button', { type: 'submit' }, 'Compare')
  const compareForm = h('form', { class: 'inline' }, field('From', left), field('To', right), compare)
  compareForm.addEventListener('submit', async (event) => {
    event.preventDefault()
    const [a, b] =
      (await act(compare, () =>
        Promise.all([api.registry(`${base}/${api.enc(left.value)}`), api.registry(`${base}/${api.enc(right.value)}`)]),
      )) ?? []
    if (!a || !b) return
    const lines = diffLines(pretty(a.schema), pretty(b.schema))
    const changed = lines.filter(([kind]) => kind !== 'same').length
    diffBox.replaceChildren(
      h(
        'p',
        { class: 'hint' },
        changed === 0
          ? 'The versions are identical.'
          : `${changed} changed line(s): “-” only in version ${a.version}, “+” only in version ${b.version}.`,
      ),
      h(
        'pre',
        { class: 'diff' },
        lines.map(([kind, text]) => h('span', { class: `diff-${kind}` }, `${text}\n`)),
      ),
    )
  })

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
            String(v) === String(schema.version)
              ? h('strong', { 'aria-current': 'page' }, `version ${v}`)
              : link(`${href(subject)}?version=${v}`, `version ${v}`),
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
    h('pre', { class: 'schema' }, pretty(schema.schema)),
    versions.length > 1
      ? panel('diff-h', 'Compare versions', compareForm, diffBox)
      : null,
  )
}
