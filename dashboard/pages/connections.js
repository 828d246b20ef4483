// Connections per protocol, as far as the API reports them: every listener with its port and, where the
// protocol counts them, its open connections. Listing and closing single connections is not in the API.
import { api } from '../lib/api.js'
import { fmt, h, table } from '../lib/dom.js'

export async function render(route) {
  const box = h('div', {})
  const show = async () => {
    const { items } = await api.get('/listeners')
    if (route.signal.aborted) return
    box.replaceChildren(
      table({
        columns: [
          { label: 'Protocol', value: (l) => l.name },
          { label: 'Port', value: (l) => String(l.port), num: true },
          { label: 'Address', value: (l) => l.urls.join(' ') || '—' },
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
  await show()
  const timer = setInterval(() => show().catch(() => {}), 2000)
  route.signal.addEventListener('abort', () => clearInterval(timer))
  return h(
    'div',
    {},
    h('h1', {}, 'Connections'),
    box,
    h(
      'p',
      { class: 'hint' },
      'Per-connection details (client, user, channels, prefetch) and closing a connection are not exposed by the REST admin API yet; protocols that do not count their connections show “not reported”.',
    ),
  )
}
