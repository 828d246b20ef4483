// SNS topics and their subscriptions.
import { api } from '../lib/api.js'
import { fmt, h, link, props, table } from '../lib/dom.js'
import { collectionPage } from '../lib/list.js'

const href = (name) => `#/topics/${encodeURIComponent(name)}`

export function render(route) {
  return route.name === undefined ? renderList(route) : renderDetail(route.name)
}

function renderList(route) {
  return collectionPage({
    route,
    title: 'SNS topics',
    path: '/topics',
    noun: 'topics',
    empty: 'No SNS topics.',
    columns: [
      { label: 'Topic', value: (t) => link(href(t.name), t.name) },
      { label: 'Subscriptions', value: (t) => fmt.num(t.subscriptions), num: true },
    ],
  })
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
