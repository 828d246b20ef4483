// Queues (AMQP, SQS, MQTT sessions): list with ready/unacked/delayed/consumers, detail with stats,
// dead-letter links, non-destructive peek, send, purge, DLQ redrive and delete.
import { api, qs } from '../lib/api.js'
import { act, confirmDialog, field, fmt, h, link, notify, panel, props } from '../lib/dom.js'
import { collectionPage } from '../lib/list.js'
import { formatSelect, internalHeadersToggle, messageTable, produceForm } from '../lib/messages.js'

const href = (name) => `#/queues/${encodeURIComponent(name)}`

function deadLetterOf(config) {
  const d = config.deadLetter
  if (!d) return null
  if ('queue' in d) return link(href(d.queue), d.queue)
  return `exchange ${d.exchange}${d.routingKey ? ` (key ${d.routingKey})` : ''}`
}

export function render(route) {
  return route.name === undefined ? renderList(route) : renderDetail(route, route.name)
}

function renderList(route) {
  return collectionPage({
    route,
    title: 'Queues',
    path: '/queues',
    noun: 'queues',
    empty: 'No queues yet.',
    columns: [
      {
        label: 'Name',
        value: (q) => [
          link(href(q.name), q.name),
          q.internal ? [' ', h('span', { class: 'badge internal' }, `internal: ${q.internal}`)] : null,
        ],
      },
      { label: 'Ready', value: (q) => fmt.num(q.ready), num: true },
      { label: 'Unacked', value: (q) => fmt.num(q.inflight), num: true },
      { label: 'Delayed', value: (q) => fmt.num(q.delayed), num: true },
      { label: 'Total', value: (q) => fmt.num(q.depth), num: true },
      { label: 'Consumers', value: (q) => fmt.num(q.consumers), num: true },
      { label: 'Dead letters to', value: (q) => deadLetterOf(q.config) ?? '—' },
    ],
    below: createForm,
    internalLabel: 'Show internal queues (MQTT sessions)',
  })
}

/** The create form under the list; it reloads the list after creating. */
function createForm(list) {
  const name = h('input', { type: 'text', name: 'name', required: true, autocomplete: 'off' })
  const maxDeliveries = h('input', { type: 'number', name: 'maxDeliveries', min: '1' })
  const dlq = h('input', { type: 'text', name: 'deadLetterQueue', autocomplete: 'off' })
  const create = h('button', { type: 'submit' }, 'Create queue')
  const form = h(
    'form',
    { class: 'inline' },
    field('Name', name),
    field('Max deliveries (optional)', maxDeliveries),
    field('Dead-letter queue (optional, must exist)', dlq),
    create,
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const body = { name: name.value }
    if (maxDeliveries.value !== '') body.maxDeliveries = Number(maxDeliveries.value)
    if (dlq.value !== '') body.deadLetter = { queue: dlq.value }
    if (await act(create, () => api.post('/queues', body), `Created queue ${name.value}.`)) {
      name.value = ''
      await list.reload()
    }
  })
  return panel('create-queue', 'Create a queue', form)
}

async function renderDetail(route, name) {
  const path = `/queues/${api.enc(name)}`
  const [queue, dl] = await Promise.all([api.get(path), api.get(`${path}/dead-letter-sources`)])
  const statsBox = h('div', {})
  const showStats = (s) =>
    statsBox.replaceChildren(
      h(
        'dl',
        { class: 'cards' },
        [
          ['Ready', s.ready, 'ready'],
          ['Unacked', s.inflight, 'unacked'],
          ['Delayed', s.delayed, 'delayed'],
          ['Total', s.depth, 'depth'],
          ['Consumers', s.consumers, 'consumers'],
          ['Published', s.publishedTotal, 'published'],
          ['Delivered', s.deliveredTotal, 'delivered'],
          ['Acked', s.ackedTotal, 'acked'],
          ['Dead-lettered', s.deadLetteredTotal, 'dead-lettered'],
        ].map(([label, value, key]) =>
          h('div', { class: 'card' }, h('dt', {}, label), h('dd', { 'data-metric': key }, fmt.num(value))),
        ),
      ),
      h('p', { class: 'hint' }, 'Published/delivered/acked/dead-lettered count since the broker started.'),
    )
  let lastStats = queue
  showStats(queue)
  const refresh = async () => {
    const s = await api.get(path)
    if (route.signal.aborted) return
    lastStats = s
    showStats(s)
  }
  const timer = setInterval(() => refresh().catch(() => {}), 2000)
  route.signal.addEventListener('abort', () => clearInterval(timer))

  const c = queue.config
  const config = props([
    ['Stream', link(`#/streams/${encodeURIComponent(queue.stream)}`, queue.stream)],
    ['Durable', c.durable ? 'yes' : 'no (deleted on restart)'],
    ['Lease / visibility timeout', c.leaseMs === null ? 'until acked or the consumer goes away' : fmt.ms(c.leaseMs)],
    ['Max deliveries', c.maxDeliveries === null ? 'unlimited' : fmt.num(c.maxDeliveries)],
    ['Dead letters to', deadLetterOf(c)],
    ['Dead letters from', dl.sources.length ? dl.sources.flatMap((s, i) => [i ? ', ' : '', link(href(s), s)]) : null],
    ['Message TTL', c.messageTtlMs === null ? 'none' : fmt.ms(c.messageTtlMs)],
    ['Max length', c.maxLength === null ? 'unlimited' : `${fmt.num(c.maxLength)} (${c.overflow})`],
    ['Priorities', c.maxPriority ? `0–${c.maxPriority}` : 'no'],
    ['FIFO (message groups)', c.fifo ? 'yes' : 'no'],
    ['Single active consumer', c.singleActiveConsumer ? 'yes' : 'no'],
    ['Exclusive owner', c.exclusiveOwner],
    ['Auto-delete', c.autoDelete ? 'yes' : 'no'],
    ['Expires when unused', c.expiresMs === null ? 'never' : fmt.ms(c.expiresMs)],
    ['Delivery delay', c.deliveryDelayMs ? fmt.ms(c.deliveryDelayMs) : 'none'],
  ])

  // ---- peek: non-destructive, takes no lease ----
  const limit = h('input', { type: 'number', name: 'limit', min: '1', max: '500', value: '20' })
  const format = formatSelect()
  const internal = internalHeadersToggle(() => showPeek())
  const peekButton = h('button', { type: 'submit' }, 'Peek messages')
  const peekResults = h('div', { 'aria-live': 'polite' })
  let peeked = null
  const showPeek = () =>
    peeked &&
    peekResults.replaceChildren(
      messageTable(
        peeked,
        format.value,
        `${peeked.length} of ${fmt.num(lastStats.depth)} message(s) in the queue (ready, unacked or delayed), oldest first`,
        internal.checked,
      ),
    )
  format.addEventListener('change', showPeek)
  const peekForm = h(
    'form',
    { class: 'inline' },
    field('How many', limit),
    field('Show payload as', format),
    internal.element,
    peekButton,
  )
  peekForm.addEventListener('submit', async (event) => {
    event.preventDefault()
    const result = await act(peekButton, () =>
      api.get(`${path}/messages${qs({ limit: limit.value, encoding: 'base64' })}`),
    )
    if (result) {
      peeked = result.messages
      showPeek()
    }
  })

  // ---- destructive get: takes messages, then acks them (gone) or requeues them (redelivered later) ----
  const getCount = h('input', { type: 'number', name: 'count', min: '1', max: '100', value: '1' })
  const ackMode = h(
    'select',
    { name: 'ackMode' },
    h('option', { value: 'requeue' }, 'Requeue (the messages stay, marked redelivered)'),
    h('option', { value: 'ack' }, 'Ack (the messages are removed)'),
  )
  const getButton = h('button', { type: 'submit', class: 'danger' }, 'Get messages')
  const getResults = h('div', { 'aria-live': 'polite' })
  const getForm = h(
    'form',
    { class: 'inline' },
    field('How many', getCount),
    field('Ack mode', ackMode),
    getButton,
  )
  getForm.addEventListener('submit', async (event) => {
    event.preventDefault()
    const result = await act(
      getButton,
      () =>
        api.post(`${path}/get`, { count: Number(getCount.value), ackMode: ackMode.value, encoding: 'base64' }),
      (r) =>
        r.ackMode === 'ack'
          ? `Got and acked ${r.messages.length} message(s): removed from ${name}.`
          : `Got ${r.messages.length} message(s) and requeued them.`,
    )
    if (result) {
      getResults.replaceChildren(
        messageTable(
          result.messages,
          format.value,
          `${result.messages.length} message(s) taken (${result.ackMode === 'ack' ? 'acked' : 'requeued'})`,
          internal.checked,
        ),
      )
      await refresh()
    }
  })

  const send = produceForm({
    label: 'Send',
    send: async (message) => {
      await api.post(`${path}/messages`, message)
      notify(`Sent a message to ${name}.`)
      await refresh()
    },
  })

  // ---- redrive: dead letters back to where they died (or a chosen queue) ----
  const target = h(
    'select',
    { name: 'destination' },
    h('option', { value: '' }, 'the queue each message died in'),
    dl.sources.map((s) => h('option', { value: s }, s)),
  )
  const redrive = h('button', { type: 'submit' }, 'Redrive messages')
  const redriveForm = h('form', { class: 'inline' }, field('Move every ready message to', target), redrive)
  redriveForm.addEventListener('submit', async (event) => {
    event.preventDefault()
    const body = target.value ? { destination: target.value } : {}
    const result = await act(
      redrive,
      () => api.post(`${path}/redrive`, body),
      (r) => `Moved ${r.moved} message(s).`,
    )
    if (result) await refresh()
  })

  const purge = h('button', { type: 'button', class: 'danger' }, 'Purge')
  purge.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: `Purge ${name}?`,
      message: 'Every ready message is deleted. Messages already delivered (unacked) stay with their consumers.',
      confirmLabel: 'Purge',
      typeToConfirm: name,
    })
    if (!ok) return
    const result = await act(
      purge,
      () => api.post(`${path}/purge`),
      (r) => `Purged ${r.purged} message(s) from ${name}.`,
    )
    if (result) await refresh()
  })
  const del = h('button', { type: 'button', class: 'danger' }, 'Delete queue')
  del.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: `Delete queue ${name}?`,
      message: 'The queue and its messages are deleted; consumers are cancelled. This cannot be undone.',
      confirmLabel: 'Delete queue',
      typeToConfirm: name,
    })
    if (!ok) return
    if (await act(del, () => api.del(path))) {
      location.hash = '#/queues'
      notify(`Deleted queue ${name}.`)
    }
  })

  const isDlq = dl.sources.length > 0
  const redrivePanel = panel(
    'redrive-h',
    'Redrive dead letters',
    h(
      'p',
      { class: 'hint' },
      isDlq
        ? `This queue is the dead-letter queue of ${dl.sources.join(', ')}.`
        : 'No queue dead-letters into this one; redrive still works for messages that carry their origin.',
    ),
    redriveForm,
  )
  return h(
    'div',
    {},
    h('p', { class: 'crumbs' }, link('#/queues', 'Queues'), ' / '),
    h('h1', {}, name, queue.internal ? [' ', h('span', { class: 'badge internal' }, `internal: ${queue.internal}`)] : null),
    h('div', { class: 'toolbar' }, purge, del),
    statsBox,
    isDlq ? redrivePanel : null,
    panel('peek-h', 'Peek (does not consume)', peekForm, peekResults),
    panel('get-h', 'Get messages (consumes)', getForm, getResults),
    h(
      'div',
      { class: 'cols' },
      panel('config-h', 'Configuration', config),
      panel('send-h', 'Send a test message', send),
    ),
    isDlq ? null : redrivePanel,
  )
}
