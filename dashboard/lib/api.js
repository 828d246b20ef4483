// The dashboard's only way to the broker: the public REST admin API (/api/v1) and the schema registry API —
// exactly what the CLI or any script can call. Logged-in requests carry the session cookie
// (the browser adds it) and, when they change something, the session's CSRF token; X-Requested-With makes
// a 401 come back without the Basic challenge, so the browser leaves the login to the dashboard's page.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

let csrfToken = null
/** Called with false when a request finds no broker (network error) and with true when one answers again. */
let onReachable = () => {}

export function setReachabilityHandler(handler) {
  onReachable = handler
}

/** fetch() that reports whether the broker answered: a network error means it is down or unreachable. */
async function reach(path, init) {
  let response
  try {
    response = await fetch(path, init)
  } catch (error) {
    if (init?.signal?.aborted) throw error
    onReachable(false)
    throw new ApiError(0, 'DISCONNECTED', 'the broker does not answer')
  }
  onReachable(true)
  return response
}
/** Called when a request finds the session gone (401): the app shows the login page. */
let onUnauthorized = () => {}

export function setCsrfToken(token) {
  csrfToken = token ?? null
}

export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler
}

function baseHeaders(method) {
  const headers = { accept: 'application/json', 'x-requested-with': 'fetch' }
  if (csrfToken !== null && method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = csrfToken
  return headers
}

async function request(method, path, body, { quiet = false } = {}) {
  const init = { method, headers: baseHeaders(method), credentials: 'same-origin' }
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  const response = await reach(path, init)
  const text = await response.text()
  let data = null
  if (text !== '') {
    try {
      data = JSON.parse(text)
    } catch {
      data = text
    }
  }
  if (response.status === 401 && !quiet) onUnauthorized()
  if (!response.ok) {
    // Admin errors are {error: {code, message}}; registry errors are {error_code, message}.
    const error = data?.error ?? data
    throw new ApiError(
      response.status,
      String(error?.code ?? error?.error_code ?? response.status),
      String(error?.message ?? response.statusText),
    )
  }
  return data
}

const enc = encodeURIComponent

export function qs(params) {
  const parts = []
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') parts.push(`${enc(k)}=${enc(v)}`)
  return parts.length ? `?${parts.join('&')}` : ''
}

export const api = {
  get: (path) => request('GET', `/api/v1${path}`),
  post: (path, body) => request('POST', `/api/v1${path}`, body ?? {}),
  put: (path, body) => request('PUT', `/api/v1${path}`, body ?? {}),
  del: (path) => request('DELETE', `/api/v1${path}`),
  registry: (path) => request('GET', path),
  enc,
}

/** The dashboard session: who is logged in (or anonymous), the CSRF token, the rights to show controls for. */
export const session = {
  /** Resolves the caller, or null when credentials are needed. */
  async current() {
    try {
      return await request('GET', '/api/v1/session', undefined, { quiet: true })
    } catch (error) {
      if (error.status === 401) return null
      throw error
    }
  },
  login: (user, password) => request('POST', '/api/v1/session', { user, password }, { quiet: true }),
  logout: () => request('DELETE', '/api/v1/session', undefined, { quiet: true }),
}
