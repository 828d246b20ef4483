// Connections: open client connections of every protocol (GET /api/v1/connections), paged and filtered on
// the server, with the client each one says it is, and a Close button (DELETE /api/v1/connections/:id:
// Kafka drops the socket, AMQP sends connection.close 320, MQTT 5 gets DISCONNECT 0x98). Above the list,
// each listener's open connection count.
import { api, qs } from '../lib/api.js'
import { act, confirmDialog, field, fmt, h, table } from '../lib/dom.js'
import { serverList } from '../lib/list.js'

const POLL_MS = 5000
const PROTOCOLS = [
  ['', 'All protocols'],
  ['kafka', 'Kafka'],
  ['amqp', 'AMQP 0-9-1'],
  ['mqtt', 'MQTT'],
]

/** The name a user gave the connection: AMQP connection_name, else the Kafka or MQTT client id. */
function nameOf(c) {
  const d = c.details ?? {}
  return d.connectionName ?? d.clientId ?? null
}

function client(c) {
  if (c.clientName === undefined) return '—'
  return c.clientVersion === undefined ? c.clientName : `${c.clientName} ${c.clientVersion}`
}

/** The protocol's own facts, one short line: channels and prefetch for AMQP, session for MQTT. */
function summary(c) {
  const d = c.details ?? {}
  if (c.protocol === 'amqp') {
    const channels = d.channels ?? []
    const unacked = channels.reduce((n, ch) => n + ch.unacked, 0)
    const prefetch = [...new Set(channels.map((ch) => ch.prefetch))]
    return `${fmt.num(d.channelCount ?? channels.length)} channel${channels.length === 1 ? '' : 's'} · ${fmt.num(unacked)} unacked${prefetch.length > 0 ? ` · prefetch ${prefetch.join('/')}` : ''}`
  }
  if (c.protocol === 'mqtt')
    return `MQTT ${d.protocolVersion} · ${d.cleanSession ? 'clean' : 'persistent'} session · ${fmt.num(d.subscriptions)} subscription${d.subscriptions === 1 ? '' : 's'}`
  if (c.protocol === 'kafka') return d.authenticated === false ? 'not authenticated' : '—'
  return '—'
}

export async function render(route) {
  let protocol = route.query.get('protocol') ?? ''
  const counts = h('div', {})
  const showCounts = async () => {
    const { items } = await api.get('/listeners')
    if (route.signal.aborted) return
    counts.replaceChildren(
      table({
        caption: 'Listeners',
        columns: [
          { label: 'Protocol', value: (l) => l.name },
          { label: 'Port', value: (l) => String(l.port), num: true },
          {
            label: 'Open connections',
            value: (l) => (l.connections === null ? 'not reported' : fmt.num(l.connections)),
            num: true,
          },
        ],
        rows: items,
        empty: 'No listeners.',
      }),
    )
  }

  const closeButton = (c) => {
    const label = nameOf(c) ?? c.remoteAddress
    const button = h(
      'button',
      { type: 'button', class: 'danger', 'aria-label': `Close connection ${label}` },
      'Close',
    )
    button.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: `Close connection ${label}?`,
        message: `The ${c.protocol.toUpperCase()} client ${client(c)} at ${c.remoteAddress} is disconnected${c.protocol === 'amqp' ? ' with 320 CONNECTION_FORCED' : c.protocol === 'mqtt' ? ' (MQTT 5 clients get reason 0x98, administrative action)' : ''}. Clients that reconnect by themselves will come back.`,
        confirmLabel: 'Close connection',
      })
      if (!ok) return
      const done = await act(
        button,
        () => api.del(`/connections/${api.enc(c.id)}`),
        `Closed connection ${label}.`,
      )
      if (done) await Promise.all([list.reload(), showCounts().catch(() => {})])
    })
    return button
  }

  const list = serverList({
    route,
    filterLabel: 'Filter by client, name, user, address or id',
    empty: 'No open connections.',
    load: (page) => api.get(`/connections${qs({ ...page, protocol })}`),
    columns: [
      { label: 'Name', value: (c) => nameOf(c) ?? c.id },
      { label: 'Protocol', value: (c) => c.protocol },
      { label: 'Client', value: client },
      { label: 'User', value: (c) => c.user ?? '—' },
      { label: 'Address', value: (c) => c.remoteAddress },
      { label: 'Connected', value: (c) => fmt.time(c.connectedAt) },
      { label: 'Details', value: summary },
      { label: 'Actions', value: closeButton },
    ],
  })

  const select = h(
    'select',
    {
      onchange: () => {
        protocol = select.value
        // setQuery builds on route.query, so the list's own q/offset updates keep the protocol.
        if (protocol) route.query.set('protocol', protocol)
        else route.query.delete('protocol')
        list.go(0)
      },
    },
    PROTOCOLS.map(([value, label]) => h('option', { value, selected: value === protocol }, label)),
  )

  await Promise.all([list.reload(), showCounts()])
  // Refresh while the page is visible; a background tab does not poll.
  const timer = setInterval(() => {
    if (document.hidden || document.querySelector('dialog[open]')) return
    list.reload()
    showCounts().catch(() => {})
  }, POLL_MS)
  route.signal.addEventListener('abort', () => clearInterval(timer))
  return h(
    'div',
    {},
    h('h1', {}, 'Connections'),
    counts,
    h('h2', {}, 'Open connections'),
    h('form', { class: 'inline', onsubmit: (e) => e.preventDefault() }, field('Protocol', select)),
    list.element,
  )
}
