// Exchanges and their bindings (AMQP exchanges, MQTT filters on amq.topic): list and declare exchanges;
// on an exchange, bind it to a queue, stream or exchange and publish a message with AMQP properties.
import { api } from '../lib/api.js'
import { act, field, fmt, h, link, panel, props, table } from '../lib/dom.js'
import { collectionPage } from '../lib/list.js'
import { parseHeaders } from '../lib/messages.js'

const TYPES = ['direct', 'fanout', 'topic', 'headers']

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
  return route.name === undefined ? renderList(route) : renderDetail(route, route.name)
}

const select = (name, options, value) =>
  h(
    'select',
    { name },
    options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)),
  )

/** Declare an exchange under the list; the name rule is the API's, and so is the message that states it. */
function createForm(list) {
  const name = h('input', { type: 'text', name: 'name', required: true, autocomplete: 'off' })
  const type = select(
    'type',
    TYPES.map((t) => [t, t]),
    'direct',
  )
  const durable = h('input', { type: 'checkbox', name: 'durable', checked: true })
  const create = h('button', { type: 'submit' }, 'Create exchange')
  const form = h(
    'form',
    { class: 'inline' },
    field('Name', name),
    field('Type', type),
    field('Durable', durable),
    create,
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const body = { name: name.value, type: type.value, durable: durable.checked }
    if (await act(create, () => api.post('/exchanges', body), `Created exchange ${name.value}.`)) {
      name.value = ''
      await list.reload()
    }
  })
  return panel('create-exchange', 'Create an exchange', form)
}

function bindForm(name, reload) {
  const kind = select(
    'kind',
    [
      ['queue', 'queue'],
      ['stream', 'stream'],
      ['exchange', 'exchange'],
    ],
    'queue',
  )
  const destination = h('input', { type: 'text', name: 'destination', required: true, autocomplete: 'off' })
  const key = h('input', { type: 'text', name: 'key', autocomplete: 'off' })
  const bind = h('button', { type: 'submit' }, 'Bind')
  const form = h(
    'form',
    { class: 'inline' },
    field('Destination kind', kind),
    field('Destination name', destination),
    field('Routing key', key),
    bind,
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const body = { source: name, destination: { kind: kind.value, name: destination.value }, key: key.value }
    if (await act(bind, () => api.post('/bindings', body), `Bound ${kind.value} ${destination.value} to ${name}.`))
      await reload()
  })
  return panel('bind-h', 'Add a binding', form)
}

/** Publish as an AMQP client would: routing key, AMQP properties by name, headers table, body. */
function publishForm(name) {
  const key = h('input', { type: 'text', name: 'routingKey', autocomplete: 'off' })
  const contentType = h('input', { type: 'text', name: 'contentType', autocomplete: 'off', placeholder: 'text/plain' })
  const deliveryMode = select(
    'deliveryMode',
    [
      ['', 'not set'],
      ['1', '1 (transient)'],
      ['2', '2 (persistent)'],
    ],
    '',
  )
  const correlationId = h('input', { type: 'text', name: 'correlationId', autocomplete: 'off' })
  const messageId = h('input', { type: 'text', name: 'messageId', autocomplete: 'off' })
  const headers = h('textarea', { name: 'headers', rows: '2', placeholder: 'x-trace: abc' })
  const value = h('textarea', { name: 'value', rows: '4' })
  const publish = h('button', { type: 'submit' }, 'Publish')
  const form = h(
    'form',
    { class: 'stack' },
    field('Routing key', key),
    field('content-type', contentType),
    field('delivery-mode', deliveryMode),
    field('correlation-id', correlationId),
    field('message-id', messageId),
    field('Headers table (one “name: value” per line)', headers),
    field('Payload', value),
    h('div', {}, publish),
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    await act(
      publish,
      () => {
        const properties = {
          'content-type': contentType.value,
          'correlation-id': correlationId.value,
          'message-id': messageId.value,
        }
        if (deliveryMode.value !== '') properties['delivery-mode'] = Number(deliveryMode.value)
        const table = parseHeaders(headers.value)
        if (Object.keys(table).length > 0) properties.headers = table
        return api.post(`/exchanges/${api.enc(name)}/publish`, {
          routingKey: key.value,
          value: value.value,
          encoding: 'text',
          properties,
        })
      },
      (r) =>
        r.routed === 0
          ? `Published to ${name || '(default)'}; no binding matched, the message was dropped.`
          : `Published to ${name || '(default)'}; routed to ${r.routed} destination(s).`,
    )
  })
  return panel('publish-h', 'Publish a message', form)
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
    below: createForm,
  })
}

async function renderDetail(route, name) {
  const e = await api.get(`/exchanges/${api.enc(name)}`)
  const bindings = h('div', {})
  const showBindings = (x) =>
    bindings.replaceChildren(
      h('h2', {}, `Bindings (${fmt.num(x.bindings.length)})`),
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
        rows: x.bindings.slice(0, 500),
      }),
      x.bindings.length > 500 ? h('p', { class: 'hint' }, `Showing 500 of ${x.bindings.length} bindings.`) : null,
    )
  showBindings(e)
  const reload = async () => {
    const x = await api.get(`/exchanges/${api.enc(name)}`)
    if (!route.signal.aborted) showBindings(x)
  }
  return h(
    'div',
    {},
    h('p', { class: 'crumbs' }, link('#/exchanges', 'Exchanges'), ' / '),
    h('h1', {}, name || '(default)'),
    props([
      ['Type', e.type],
      ['Durable', e.durable ? 'yes' : 'no'],
      ['Auto-delete', e.autoDelete ? 'yes' : 'no'],
      ['Internal', e.internal ? 'yes' : 'no'],
      ['Alternate exchange', e.alternateExchange ? link(href(e.alternateExchange), e.alternateExchange) : null],
      ['Arguments', Object.keys(e.arguments ?? {}).length ? JSON.stringify(e.arguments) : null],
    ]),
    bindings,
    h('div', { class: 'cols' }, bindForm(name, reload), publishForm(name)),
  )
}
