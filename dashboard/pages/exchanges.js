// Exchanges and their bindings (AMQP exchanges, MQTT filters on amq.topic).
import { api } from '../lib/api.js'
import { fmt, h, link, props, table } from '../lib/dom.js'
import { collectionPage } from '../lib/list.js'

const href = (name) => `#/exchanges/${encodeURIComponent(name)}`
const destination = (d) => {
  const name = d.name ?? d.id
  if (d.kind === 'queue')
    return [h('span', { class: 'badge' }, 'queue'), ' ', link(`#/queues/${encodeURIComponent(name)}`, name)]
  if (d.kind === 'stream')
    return [h('span', { class: 'badge' }, 'stream'), ' ', link(`#/streams/${encodeURIComponent(name)}`, name)]
  if (d.kind === 'exchange') return [h('span', { class: 'badge' }, 'exchange'), ' ', link(href(name), name)]
  return [h('span', { class: 'badge' }, d.kind), ' ', name]
}

export function render(route) {
  return route.name === undefined ? renderList(route) : renderDetail(route.name)
}

function renderList(route) {
  return collectionPage({
    route,
    title: 'Exchanges',
    path: '/exchanges',
    noun: 'exchanges',
    empty: 'No exchanges.',
    columns: [
      { label: 'Name', value: (e) => link(href(e.name), e.name || '(default)') },
      { label: 'Type', value: (e) => e.type },
      { label: 'Durable', value: (e) => (e.durable ? 'yes' : 'no') },
      { label: 'Auto-delete', value: (e) => (e.autoDelete ? 'yes' : 'no') },
      { label: 'Internal', value: (e) => (e.internal ? 'yes' : 'no') },
    ],
  })
}

async function renderDetail(name) {
  const e = await api.get(`/exchanges/${api.enc(name)}`)
  return h(
    'div',
    {},
    h('p', { class: 'crumbs' }, link('#/exchanges', 'Exchanges'), ' / '),
    h('h1', {}, name),
    props([
      ['Type', e.type],
      ['Durable', e.durable ? 'yes' : 'no'],
      ['Auto-delete', e.autoDelete ? 'yes' : 'no'],
      ['Internal', e.internal ? 'yes' : 'no'],
      ['Alternate exchange', e.alternateExchange ? link(href(e.alternateExchange), e.alternateExchange) : null],
      ['Arguments', Object.keys(e.arguments ?? {}).length ? JSON.stringify(e.arguments) : null],
    ]),
    h('h2', {}, `Bindings (${fmt.num(e.bindings.length)})`),
    table({
      empty: 'No bindings.',
      columns: [
        { label: 'Destination', value: (b) => destination(b.destination) },
        { label: 'Routing key', value: (b) => b.key || '—' },
        {
          label: 'Arguments',
          value: (b) => (Object.keys(b.arguments ?? {}).length ? JSON.stringify(b.arguments) : '—'),
        },
      ],
      rows: e.bindings.slice(0, 500),
    }),
    e.bindings.length > 500 ? h('p', { class: 'hint' }, `Showing 500 of ${e.bindings.length} bindings.`) : null,
  )
}
