// Hash router: `#/streams/orders?partition=1` → pages/streams.js detail. Each navigation aborts the
// previous page's signal, which stops its polling timers and discards its late responses.
// Before any page: who is the caller? Without credentials (and no anonymous access) the login page shows;
// a request that finds the session gone later brings it back.
import { api, session, setCsrfToken, setReachabilityHandler, setUnauthorizedHandler } from './lib/api.js'
import { clearMessages, field, h, notify, showError } from './lib/dom.js'

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
  security: () => import('./pages/security.js'),
}

const ALARM_POLL_MS = 5000
/** While the broker does not answer, how often the page asks again. */
const RECONNECT_POLL_MS = 2000

/**
 * The "disconnected" banner: shown as soon as any request finds no broker, with the time of the last answer,
 * so numbers still on screen are not mistaken for live ones; the page polls until the broker answers, then
 * hides the banner and renders the current page afresh.
 */
let reachable = true
let lastAnswer = Date.now()
let reconnectTimer = null

function showReachability(ok) {
  if (ok) lastAnswer = Date.now()
  if (ok === reachable) return
  reachable = ok
  const banner = document.getElementById('connection')
  document.body.classList.toggle('disconnected', !ok)
  if (!ok) {
    banner.replaceChildren(
      h('strong', {}, 'Disconnected'),
      ` — the broker at ${location.host} does not answer. Figures below are from ${new Date(lastAnswer).toLocaleTimeString()}; retrying every ${RECONNECT_POLL_MS / 1000} s.`,
    )
    banner.hidden = false
    reconnectTimer = setInterval(() => session.current().catch(() => {}), RECONNECT_POLL_MS)
    return
  }
  clearInterval(reconnectTimer)
  reconnectTimer = null
  banner.hidden = true
  banner.replaceChildren()
  // A restarted broker has forgotten dashboard sessions: start() shows the login page when one is needed.
  start().then(() => notify('Reconnected to the broker.'))
}
setReachabilityHandler(showReachability)

/** The alarm banner on every page: polls /api/v1/alarms; hidden while none is active. */
async function pollAlarms() {
  if (document.hidden || who === null) return
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
  if (who === null) return
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
      // From the hash as it is now, so one control's setQuery keeps what another wrote since the render.
      const params = new URLSearchParams(location.hash.split('?')[1] ?? '')
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

/** The caller as GET /api/v1/session describes it; null while logged out. */
let who = null

function showAccount(caller) {
  who = caller
  setCsrfToken(caller?.csrfToken)
  document.getElementById('nav').hidden = caller === null
  document.getElementById('nav-security').hidden = !caller?.rights?.administer
  const account = document.getElementById('account')
  // Only a dashboard session can be logged out of; anonymous and Basic callers have nothing to end.
  account.hidden = caller?.via !== 'session'
  if (caller !== null)
    document.getElementById('whoami').textContent =
      caller.tags.length > 0 ? `${caller.user} (${caller.tags.join(', ')})` : caller.user
}

function renderLogin(message) {
  current?.abort()
  current = null
  showAccount(null)
  clearMessages()
  const user = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true })
  const password = h('input', {
    type: 'password',
    name: 'password',
    autocomplete: 'current-password',
    required: true,
  })
  const submit = h('button', { type: 'submit' }, 'Log in')
  const error = h('p', { class: 'login-error', role: 'alert' })
  const form = h(
    'form',
    { class: 'login', 'aria-labelledby': 'login-title' },
    field('User name', user),
    field('Password', password),
    submit,
    error,
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    submit.disabled = true
    error.textContent = ''
    try {
      const caller = await session.login(user.value, password.value)
      password.value = ''
      showAccount(caller)
      focusOnRender = false
      await render()
    } catch (failure) {
      password.value = ''
      error.textContent =
        failure.status === 401 ? 'Wrong user name or password.' : `${failure.code}: ${failure.message}`
      password.focus()
    } finally {
      submit.disabled = false
    }
  })
  const view = document.getElementById('view')
  view.replaceChildren(h('h1', { id: 'login-title' }, 'Log in to Wharf'))
  if (message) view.append(h('p', { class: 'hint' }, message))
  view.append(form)
  document.title = 'Log in · Wharf'
  user.focus()
}

async function start(message) {
  let caller
  try {
    caller = await session.current()
  } catch (error) {
    showError(error)
    return
  }
  if (caller === null) return renderLogin(message)
  showAccount(caller)
  await render()
}

setUnauthorizedHandler(() => {
  if (who !== null) renderLogin('Your session has ended. Log in again.')
})
document.getElementById('logout').addEventListener('click', async () => {
  try {
    await session.logout()
  } catch {
    // Logged out on this side either way: the login page follows.
  }
  who = null
  await start('You have logged out.')
})
window.addEventListener('hashchange', render)
start()
pollAlarms()
setInterval(pollAlarms, ALARM_POLL_MS)
