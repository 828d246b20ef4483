// MQTT: persistent sessions (they outlive their connections and keep queued messages) and retained
// messages (one per topic, sent to every new matching subscriber) with their payloads (the first 4 KiB, as text).
import { api, qs } from '../lib/api.js'
import { fmt, h } from '../lib/dom.js'
import { serverList } from '../lib/list.js'

export async function render(route) {
  // Two lists on one page share the hash only for the session filter; the retained list keeps its own state.
  const sessions = serverList({
    route,
    filterLabel: 'Filter sessions by client id',
    empty: 'No persistent MQTT sessions.',
    load: (page) => api.get(`/mqtt/sessions${qs(page)}`),
    columns: [
      { label: 'Client id', value: (s) => s.clientId },
      { label: 'State', value: (s) => (s.connected ? 'connected' : 'disconnected') },
      {
        label: 'Subscriptions',
        value: (s) =>
          s.subscriptions.length === 0 ? '—' : s.subscriptions.map((x) => `${x.filter} (QoS ${x.qos})`).join(', '),
      },
      {
        label: 'Expiry',
        value: (s) =>
          s.expirySeconds === null ? '—' : s.expirySeconds >= 0xffffffff ? 'never' : fmt.ms(s.expirySeconds * 1000),
      },
      { label: 'Disconnected at', value: (s) => (s.disconnectedAt === null ? '—' : fmt.time(s.disconnectedAt)) },
    ],
  })
  const retainedRoute = { ...route, query: new URLSearchParams(), setQuery() {} }
  const retained = serverList({
    route: retainedRoute,
    filterLabel: 'Filter retained messages by topic',
    empty: 'No retained messages.',
    load: (page) => api.get(`/mqtt/retained${qs(page)}`),
    columns: [
      { label: 'Topic', value: (m) => m.topic },
      {
        label: 'Payload',
        value: (m) =>
          m.payload === null
            ? h('span', { class: 'empty' }, 'null')
            : h('pre', {}, m.truncated ? `${m.payload}…` : m.payload),
      },
      { label: 'Size', value: (m) => fmt.bytes(m.bytes), num: true },
      { label: 'Retained at', value: (m) => fmt.time(m.timestamp) },
    ],
  })
  await Promise.all([sessions.reload(), retained.reload()])
  return h(
    'div',
    {},
    h('h1', {}, 'MQTT'),
    h('h2', { id: 'mqtt-sessions' }, 'Persistent sessions'),
    sessions.element,
    h('h2', { id: 'mqtt-retained' }, 'Retained messages'),
    retained.element,
  )
}
