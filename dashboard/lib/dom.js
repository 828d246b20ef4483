// Tiny DOM helpers: every value reaches the page through textContent or attributes, never innerHTML.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v)
    else if (k === 'value' || k === 'checked' || k === 'selected') el[k] = v
    else el.setAttribute(k, v === true ? '' : String(v))
  }
  append(el, children)
  return el
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue
    el.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
}

let uid = 0
/** A labelled form control: `field('Partition', h('select', …))` — the label is tied to the control by id. */
export function field(label, control, hint) {
  if (!control.id) control.id = `f${++uid}`
  const parts = [h('label', { for: control.id }, label), control]
  if (hint) {
    const hintId = `${control.id}-hint`
    control.setAttribute('aria-describedby', hintId)
    parts.push(h('span', { class: 'hint', id: hintId }, hint))
  }
  return h('div', { class: 'field' }, parts)
}

/** A titled panel: a section labelled by its h2, which gets `id`. */
export function panel(id, title, ...children) {
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), children)
}

/** A data table: columns are {label, value(row) → node|string, num?}. */
export function table({ caption, columns, rows, empty = 'Nothing here.', rowAttrs }) {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty)
  return h(
    'table',
    {},
    caption ? h('caption', {}, caption) : null,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((row) =>
        h(
          'tr',
          rowAttrs ? rowAttrs(row) : {},
          columns.map((c, i) => {
            const value = c.value(row)
            return i === 0 && c.header !== false
              ? h('th', { scope: 'row', class: c.num ? 'num' : null }, value)
              : h('td', { class: c.num ? 'num' : null }, value)
          }),
        ),
      ),
    ),
  )
}

export function props(entries) {
  return h(
    'dl',
    { class: 'props' },
    entries.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v === undefined || v === null || v === '' ? '—' : v)]),
  )
}

export const fmt = {
  num: (n) => (typeof n === 'number' && Number.isFinite(n) ? n.toLocaleString('en-US') : '—'),
  rate: (n) => (Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : '—'),
  bytes(n) {
    if (typeof n !== 'number' || !Number.isFinite(n)) return '—'
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
    let i = 0
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024
      i++
    }
    return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`
  },
  ms(n) {
    if (n === null || n === undefined) return '—'
    if (n < 0) return 'forever'
    const s = n / 1000
    if (s < 120) return `${s} s`
    if (s < 7200) return `${(s / 60).toFixed(0)} min`
    if (s < 172800) return `${(s / 3600).toFixed(0)} h`
    return `${(s / 86400).toFixed(1)} d`
  },
  time: (ms) => (typeof ms === 'number' ? new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC') : '—'),
  duration(s) {
    const d = Math.floor(s / 86400)
    const hh = Math.floor((s % 86400) / 3600)
    const mm = Math.floor((s % 3600) / 60)
    return d > 0 ? `${d}d ${hh}h` : hh > 0 ? `${hh}h ${mm}m` : `${mm}m ${s % 60}s`
  },
}

export function link(href, text) {
  return h('a', { href }, text)
}

/** Announces a result in the polite live region; errors go to the assertive one. */
export function notify(message) {
  const status = document.getElementById('status')
  document.getElementById('alerts').textContent = ''
  status.textContent = message
}

export function showError(error) {
  // An unreachable broker is the connection banner's to say (app.js), once, not every failed request's.
  if (error?.code === 'DISCONNECTED') return
  const alerts = document.getElementById('alerts')
  document.getElementById('status').textContent = ''
  alerts.textContent = error?.code ? `${error.code}: ${error.message}` : String(error?.message ?? error)
}

export function clearMessages() {
  document.getElementById('alerts').textContent = ''
  document.getElementById('status').textContent = ''
}

/**
 * A modal confirmation (native <dialog>: focus is trapped and Escape cancels). With `typeToConfirm`
 * the confirm button stays disabled until the user types that text — for deletes and purges.
 */
export function confirmDialog({ title, message, confirmLabel = 'Confirm', typeToConfirm }) {
  return new Promise((resolve) => {
    const confirm = h(
      'button',
      { type: 'submit', class: 'danger', disabled: typeToConfirm !== undefined },
      confirmLabel,
    )
    const input =
      typeToConfirm === undefined
        ? null
        : h('input', {
            type: 'text',
            autocomplete: 'off',
            oninput: (e) => {
              confirm.disabled = e.target.value !== typeToConfirm
            },
          })
    const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel')
    const titleId = `d${Date.now()}`
    const dialog = h(
      'dialog',
      { 'aria-labelledby': titleId },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: titleId }, title),
        h('p', {}, message),
        input ? field(`Type “${typeToConfirm}” to confirm`, input) : null,
        h('div', { class: 'actions' }, cancel, confirm),
      ),
    )
    let result = false
    confirm.addEventListener('click', () => {
      result = true
    })
    cancel.addEventListener('click', () => dialog.close())
    dialog.addEventListener('close', () => {
      dialog.remove()
      resolve(result)
    })
    document.body.append(dialog)
    dialog.showModal()
    ;(input ?? cancel).focus()
  })
}

/** Runs an action from a button: disables it meanwhile, reports success or the API's error. */
export async function act(button, action, success) {
  button.disabled = true
  try {
    const result = await action()
    if (success) notify(typeof success === 'function' ? success(result) : success)
    return result
  } catch (error) {
    showError(error)
    return undefined
  } finally {
    button.disabled = false
  }
}

/** Payload rendering: API bytes come base64-encoded; the user picks text, JSON or hex. */
export function decodeBase64(b64) {
  if (b64 === null || b64 === undefined) return null
  const bin = atob(b64)
  const bytes = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
  return bytes
}

export function renderBytes(bytes, format) {
  if (bytes === null) return h('span', { class: 'empty' }, 'null')
  if (format === 'hex') {
    const lines = []
    for (let i = 0; i < bytes.length && i < 4096; i += 16)
      lines.push(
        `${i.toString(16).padStart(6, '0')}  ${[...bytes.subarray(i, i + 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`,
      )
    if (bytes.length > 4096) lines.push(`… ${bytes.length - 4096} more bytes`)
    return h('pre', {}, lines.join('\n'))
  }
  const text = new TextDecoder().decode(bytes)
  if (format === 'json') {
    try {
      return h('pre', {}, JSON.stringify(JSON.parse(text), null, 2))
    } catch {
      return h('pre', {}, text)
    }
  }
  return h('pre', {}, text)
}
