// Hash router: `#/streams/orders?partition=1` → pages/streams.js detail. Each navigation aborts the
// previous page's signal, which stops its polling timers and discards its late responses.
import { api } from './lib/api.js'
import { clearMessages, h, showError } from './lib/dom.js'

const pages = {
  overview: () => import('./pages/overview.js'),
  streams: () => import('./pages/streams.js'),
  queues: () => import('./pages/queues.js'),
  groups: () => import('./pages/groups.js'),
  exchanges: () => import('./pages/exchanges.js'),
  topics: () => import('./pages/topics.js'),
  schemas: () => import('./pages/schemas.js'),
  connections: () => import('./pages/connections.js'),
  mqtt: () => import('./pages/mqtt.js'),
}

const ALARM_POLL_MS = 5000

/** The alarm banner on every page: polls /api/v1/alarms; hidden while none is active. */
async function pollAlarms() {
  if (document.hidden) return
  const banner = document.getElementById('alarms')
  try {
    const { alarms, blockedPublishers } = await api.get('/alarms')
    if (alarms.length === 0) {
      banner.hidden = true
      banner.replaceChildren()
      return
    }
    const blocked =
      blockedPublishers > 0
        ? ` ${blockedPublishers} publishing connection${blockedPublishers === 1 ? ' is' : 's are'} blocked.`
        : ''
    banner.replaceChildren(
      ...alarms.map((a) =>
        h('p', { 'data-alarm': a.kind }, `Alarm (${a.kind}): ${a.message}. Publishers are blocked until it clears.`),
      ),
      ...(blocked ? [h('p', {}, blocked.trim())] : []),
    )
    banner.hidden = false
  } catch {
    // The banner is advisory: a failed poll keeps the last state, the next one retries.
  }
}

let current = null

function parse() {
  const raw = location.hash.replace(/^#\/?/, '')
  const [path, search] = raw.split('?', 2)
  const parts = (path ?? '').split('/').filter(Boolean).map(decodeURIComponent)
  return { section: parts[0] ?? 'overview', name: parts[1], query: new URLSearchParams(search ?? '') }
}

async function render() {
  current?.abort()
  const controller = new AbortController()
  current = controller
  const { section, name, query } = parse()
  for (const a of document.querySelectorAll('#nav a'))
    if (a.dataset.section === section) a.setAttribute('aria-current', 'page')
    else a.removeAttribute('aria-current')
  clearMessages()
  const view = document.getElementById('view')
  const load = pages[section]
  if (load === undefined) {
    view.replaceChildren(h('h1', { tabindex: '-1' }, 'Not found'), h('p', {}, `No page “${section}”.`))
    return
  }
  const route = {
    name,
    query,
    signal: controller.signal,
    /** Mirrors page state (filter, offset, partition) into the hash without re-rendering. */
    setQuery(values) {
      const params = new URLSearchParams(query)
      for (const [k, v] of Object.entries(values))
        if (v === '' || v === undefined || v === null) params.delete(k)
        else params.set(k, String(v))
      const base = location.hash.split('?')[0]
      const search = params.toString()
      history.replaceState(null, '', search ? `${base}?${search}` : base)
    },
  }
  try {
    const module = await load()
    const content = await module.render(route)
    if (controller.signal.aborted) return
    view.replaceChildren(content)
    document.title = `${name ?? section[0].toUpperCase() + section.slice(1)} · Wharf`
    // Move focus to the new heading so keyboard and screen-reader users land on the page, not the nav.
    const heading = view.querySelector('h1')
    if (heading && focusOnRender) {
      heading.setAttribute('tabindex', '-1')
      heading.focus()
    }
    focusOnRender = true
  } catch (error) {
    if (controller.signal.aborted) return
    view.replaceChildren(h('h1', { tabindex: '-1' }, 'Error'))
    showError(error)
  }
}

let focusOnRender = false
window.addEventListener('hashchange', render)
render()
pollAlarms()
setInterval(pollAlarms, ALARM_POLL_MS)
