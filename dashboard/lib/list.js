// A server-paged, server-filtered list: `?limit=&offset=&q=` on the API, mirrored in the URL hash so a
// filtered page can be bookmarked and Back works. Only one page of rows is ever loaded.
import { api, qs } from './api.js'
import { field, fmt, h, showError, table } from './dom.js'

export const PAGE_SIZE = 25
/** Lists refresh on their own this often (not while the tab is hidden or a load is still running). */
export const LIST_REFRESH_MS = 5000

export function serverList({ route, load, columns, filterLabel, empty }) {
  let q = route.query.get('q') ?? ''
  let offset = Math.max(0, Number(route.query.get('offset') ?? 0) || 0)
  let total = 0
  const body = h('div', { 'aria-busy': 'true' })
  const pages = pager((step) => go(offset + step))
  const filter = h('input', { type: 'search', value: q, placeholder: 'substring of the name', autocomplete: 'off' })
  let timer
  filter.addEventListener('input', () => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      q = filter.value.trim()
      go(0)
    }, 250)
  })
  const refresher = setInterval(() => {
    if (!document.hidden && body.getAttribute('aria-busy') !== 'true') reload()
  }, LIST_REFRESH_MS)
  route.signal.addEventListener('abort', () => {
    clearTimeout(timer)
    clearInterval(refresher)
  })

  function go(to) {
    offset = Math.max(0, to)
    route.setQuery({ q, offset: offset || '' })
    return reload()
  }

  async function reload() {
    body.setAttribute('aria-busy', 'true')
    try {
      const page = await load({ limit: PAGE_SIZE, offset, q })
      if (route.signal.aborted) return
      total = page.total
      body.replaceChildren(table({ columns, rows: page.items, empty: q ? `Nothing matches “${q}”.` : empty }))
      const last = Math.min(offset + page.items.length, total)
      pages.show(
        offset,
        total,
        total === 0 ? '0 items' : `${fmt.num(offset + 1)}–${fmt.num(last)} of ${fmt.num(total)}`,
      )
    } catch (error) {
      if (!route.signal.aborted) showError(error)
    } finally {
      body.setAttribute('aria-busy', 'false')
    }
  }

  const element = h('div', {}, searchForm(filterLabel, filter), body, pages.element)
  return { element, reload, go }
}

/** Previous/next page buttons around a live count; `move(step)` is called with -PAGE_SIZE or PAGE_SIZE. */
export function pager(move) {
  const count = h('span', { class: 'count', 'aria-live': 'polite' })
  const prev = h('button', { type: 'button', class: 'secondary', onclick: () => move(-PAGE_SIZE) }, 'Previous page')
  const next = h('button', { type: 'button', class: 'secondary', onclick: () => move(PAGE_SIZE) }, 'Next page')
  return {
    element: h('nav', { class: 'pager', 'aria-label': 'Pages' }, prev, count, next),
    /** The page at offset out of total is on screen; text is its count line. */
    show(offset, total, text) {
      count.textContent = text
      prev.disabled = offset === 0
      next.disabled = offset + PAGE_SIZE >= total
    },
  }
}

/** The filter box above a list; typing filters, so the form never submits. */
export function searchForm(label, input) {
  return h('form', { class: 'inline', role: 'search', onsubmit: (e) => e.preventDefault() }, field(label, input))
}

/**
 * A page that lists one admin API collection (`/queues`, `/streams`, …) under its title, filtered by name.
 * `below(list)` builds what follows the list, such as a create form that reloads it.
 */
export async function collectionPage({ route, title, path, noun, empty, columns, below, internalLabel }) {
  // Protocols' own state (and streams under queues) is left out unless the user asks for it (`?internal=1`).
  let internal = route.query.get('internal') === '1'
  const toggle =
    internalLabel === undefined
      ? null
      : h('input', {
          type: 'checkbox',
          name: 'internal',
          checked: internal,
          onchange: () => {
            internal = toggle.checked
            route.setQuery({ internal: internal ? '1' : '' })
            list.go(0)
          },
        })
  const list = serverList({
    route,
    filterLabel: `Filter ${noun} by name`,
    empty,
    load: (page) => api.get(`${path}${qs({ ...page, internal: internalLabel === undefined || internal ? '' : 'false' })}`),
    columns,
  })
  await list.reload()
  return h(
    'div',
    {},
    h('h1', {}, title),
    toggle ? h('div', { class: 'inline' }, field(internalLabel, toggle)) : null,
    list.element,
    below?.(list),
  )
}
