// SNS topics and their subscriptions.
import { api, qs } from '../lib/api.js'
import { fmt, h, link, props, table } from '../lib/dom.js'
import { serverList } from '../lib/list.js'

const href = (name) => `#/topics/${encodeURIComponent(name)}`

export function render(route) {
  return route.name === undefined ? renderList(route) : renderDetail(route.name)
}

async function renderList(route) {
  const list = serverList({
    route,
    filterLabel: 'Filter topics by name',
    empty: 'No SNS topics.',
    load: (page) => api.get(`/topics${qs(page)}`),
    columns: [
      { label: 'Topic', value: (t) => link(href(t.name), t.name) },
      { label: 'Subscriptions', value: (t) => fmt.num(t.subscriptions), num: true },
    ],
  })
  await list.reload()
  return h('div', {}, h('h1', {}, 'SNS topics'), list.element)
}

async function renderDetail(name) {
  const t = await api.get(`/topics/${api.enc(name)}`)
  return h(
    'div',
    {},
    h('p', { class: 'crumbs' }, link('#/topics', 'SNS topics'), ' / '),
    h('h1', {}, name),
    props(Object.entries(t.attributes)),
    h('h2', {}, 'Subscriptions'),
    table({
      empty: 'No subscriptions.',
      columns: [
        { label: 'Id', value: (s) => s.id },
        {
          label: 'Delivers to',
          value: (s) =>
            s.destination.kind === 'queue'
              ? link(`#/queues/${encodeURIComponent(s.destination.name)}`, `queue ${s.destination.name}`)
              : `${s.destination.kind} ${s.destination.name}`,
        },
        { label: 'Raw delivery', value: (s) => (s.raw ? 'yes' : 'no') },
        { label: 'Filter policy', value: (s) => (s.filterPolicy ? h('pre', {}, s.filterPolicy) : '—') },
      ],
      rows: t.subscriptions,
    }),
  )
}
