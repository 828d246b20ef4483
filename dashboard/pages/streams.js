// Streams (Kafka topics, and the streams under queues): list, create, detail with partitions and config,
// browse a partition from an offset / the end / a time, produce a test message, delete.
import { api, qs } from '../lib/api.js'
import { act, confirmDialog, field, fmt, h, link, notify, panel, props, showError, table } from '../lib/dom.js'
import { collectionPage } from '../lib/list.js'
import { formatSelect, internalHeadersToggle, messageTable, produceForm } from '../lib/messages.js'

const messagesOf = (s) => s.partitions.reduce((n, p) => n + (p.highWatermark - p.logStartOffset), 0)
const bytesOf = (s) => s.partitions.reduce((n, p) => n + p.sizeBytes, 0)
const href = (name) => `#/streams/${encodeURIComponent(name)}`
/** The partitions table follows the broker's offsets this often. */
const REFRESH_MS = 5000

export function render(route) {
  return route.name === undefined ? renderList(route) : renderDetail(route, route.name)
}

function retention(config) {
  const parts = []
  parts.push(config.retentionMs < 0 ? 'time: forever' : `time: ${fmt.ms(config.retentionMs)}`)
  if (config.retentionBytes >= 0) parts.push(`size: ${fmt.bytes(config.retentionBytes)}/partition`)
  if (config.workQueue) parts.push('work queue')
  if (config.compact) parts.push('compacted')
  return parts.join(', ')
}

function renderList(route) {
  return collectionPage({
    route,
    title: 'Streams',
    path: '/streams',
    noun: 'streams',
    empty: 'No streams yet.',
    columns: [
      { label: 'Name', value: (s) => [link(href(s.name), s.name), ' ', roleBadge(s)] },
      { label: 'Partitions', value: (s) => String(s.partitions.length), num: true },
      { label: 'Messages', value: (s) => fmt.num(messagesOf(s)), num: true },
      { label: 'Size', value: (s) => fmt.bytes(bytesOf(s)), num: true },
      { label: 'Retention', value: (s) => retention(s.config) },
      { label: 'Read by queues', value: (s) => (s.queues.length ? s.queues.join(', ') : '—') },
    ],
    below: createForm,
    internalLabel: 'Show queue and internal streams',
  })
}

/** Marks a stream that is not a plain stream: the one under a queue, or a protocol's internal state. */
function roleBadge(s) {
  if (s.role === 'queue') return h('span', { class: 'badge', title: 'the messages of the queue of this name' }, 'queue')
  if (s.role === 'internal') return h('span', { class: 'badge internal', title: s.internal }, `internal: ${s.internal}`)
  return null
}

/** The create form under the list; it reloads the list after creating. */
function createForm(list) {
  const name = h('input', {
    type: 'text',
    name: 'name',
    required: true,
    autocomplete: 'off',
  })
  const partitions = h('input', { type: 'number', name: 'partitions', min: '1', max: '4096', value: '1' })
  const retentionHours = h('input', { type: 'number', name: 'retention', min: '-1', value: '168' })
  const create = h('button', { type: 'submit' }, 'Create stream')
  const form = h(
    'form',
    { class: 'inline' },
    field('Name', name),
    field('Partitions', partitions),
    field('Retention (hours, -1 = forever)', retentionHours),
    create,
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const hours = Number(retentionHours.value)
    const created = await act(
      create,
      () =>
        api.post('/streams', {
          name: name.value,
          partitions: Number(partitions.value),
          retentionMs: hours < 0 ? -1 : Math.round(hours * 3600_000),
        }),
      `Created stream ${name.value}.`,
    )
    if (created) {
      name.value = ''
      await list.reload()
    }
  })
  return panel('create-stream', 'Create a stream', form)
}

async function renderDetail(route, name) {
  const stream = await api.get(`/streams/${api.enc(name)}`)
  const partitionsBox = h('div', {})
  const showPartitions = (s) =>
    partitionsBox.replaceChildren(
      table({
        caption: `${s.partitions.length} partition(s)`,
        columns: [
          { label: 'Partition', value: (p) => String(p.partition), num: true },
          { label: 'Start offset', value: (p) => fmt.num(p.logStartOffset), num: true },
          { label: 'End offset', value: (p) => fmt.num(p.highWatermark), num: true },
          { label: 'Messages', value: (p) => fmt.num(p.highWatermark - p.logStartOffset), num: true },
          { label: 'Size', value: (p) => fmt.bytes(p.sizeBytes), num: true },
          {
            label: 'Browse',
            value: (p) =>
              h(
                'button',
                { type: 'button', class: 'secondary', onclick: () => browseFrom(p.partition, 'earliest') },
                `Browse partition ${p.partition}`,
              ),
          },
        ],
        rows: s.partitions,
      }),
    )
  showPartitions(stream)

  const c = stream.config
  const config = props([
    ['Created', fmt.time(stream.createdAt)],
    ['Retention', retention(c)],
    ['Retention (time)', c.retentionMs < 0 ? 'forever' : fmt.ms(c.retentionMs)],
    ['Retention (size)', c.retentionBytes < 0 ? 'unlimited' : fmt.bytes(c.retentionBytes)],
    ['Durability', c.durability],
    ['Compaction', c.compact ? 'on' : 'off'],
    ['Max message size', fmt.bytes(c.maxMessageBytes)],
    ['Segment size', fmt.bytes(c.segmentBytes)],
    [
      'Schema subject',
      c.schemaSubject ? link(`#/schemas/${encodeURIComponent(c.schemaSubject)}`, c.schemaSubject) : null,
    ],
    ['Dedup window', c.dedupWindowMs ? fmt.ms(c.dedupWindowMs) : 'off'],
    ['Messages in (since start)', fmt.num(stream.messagesIn)],
    [
      'Read by queues',
      stream.queues.length
        ? stream.queues.flatMap((q, i) => [i ? ', ' : '', link(`#/queues/${encodeURIComponent(q)}`, q)])
        : null,
    ],
  ])

  // ---- browse ----
  const q = route.query
  const partition = h(
    'select',
    { name: 'partition' },
    stream.partitions.map((p) =>
      h(
        'option',
        { value: String(p.partition), selected: String(p.partition) === (q.get('partition') ?? '0') },
        String(p.partition),
      ),
    ),
  )
  const from = h(
    'select',
    { name: 'from' },
    [
      ['earliest', 'Earliest'],
      ['offset', 'Offset'],
      ['latest', 'Latest (last N)'],
      ['timestamp', 'Time'],
    ].map(([v, l]) => h('option', { value: v, selected: v === (q.get('from') ?? 'earliest') }, l)),
  )
  const offset = h('input', { type: 'number', name: 'offset', min: '0', value: q.get('offset') ?? '0' })
  const time = h('input', { type: 'datetime-local', name: 'time', step: '1' })
  const limit = h('input', { type: 'number', name: 'limit', min: '1', max: '500', value: q.get('limit') ?? '20' })
  const format = formatSelect(q.get('format') ?? 'decoded')
  const internal = internalHeadersToggle(() => showPage())
  const results = h('div', { 'aria-live': 'polite' })
  const browseButton = h('button', { type: 'submit' }, 'Show messages')
  const browseForm = h(
    'form',
    { class: 'inline', 'aria-label': 'Browse messages' },
    field('Partition', partition),
    field('From', from),
    field('Offset', offset),
    field('Time (local)', time),
    field('Limit', limit),
    field('Show payload as', format),
    internal.element,
    browseButton,
  )
  const syncInputs = () => {
    offset.disabled = from.value !== 'offset'
    time.disabled = from.value !== 'timestamp'
  }
  from.addEventListener('change', syncInputs)
  syncInputs()
  let lastPage = null
  const showPage = () => {
    if (lastPage === null) return
    const next = lastPage.messages.length > 0 && lastPage.nextOffset < lastPage.highWatermark
    results.replaceChildren(
      ...[
        messageTable(
          lastPage.messages,
          format.value,
          `Partition ${lastPage.partition}: ${lastPage.messages.length} message(s); end offset ${lastPage.highWatermark}`,
          internal.checked,
        ),
        next
          ? h(
              'button',
              {
                type: 'button',
                class: 'secondary',
                onclick: () => browseFrom(lastPage.partition, 'offset', lastPage.nextOffset),
              },
              `Next from offset ${lastPage.nextOffset}`,
            )
          : null,
      ].filter(Boolean),
    )
  }
  format.addEventListener('change', () => {
    route.setQuery({ format: format.value })
    showPage()
  })
  async function browse() {
    const params = { partition: partition.value, limit: limit.value, encoding: 'base64' }
    if (from.value === 'offset') params.offset = offset.value
    else if (from.value === 'latest') params.offset = 'latest'
    else if (from.value === 'timestamp') {
      const ms = new Date(time.value).getTime()
      if (!Number.isFinite(ms)) return showError(new Error('pick a time to browse from'))
      params.timestamp = String(ms)
    }
    route.setQuery({
      partition: partition.value,
      from: from.value,
      offset: from.value === 'offset' ? offset.value : '',
      format: format.value,
    })
    const page = await act(browseButton, () => api.get(`/streams/${api.enc(name)}/messages${qs(params)}`))
    if (page) {
      lastPage = page
      showPage()
    }
  }
  function browseFrom(p, mode, at) {
    partition.value = String(p)
    from.value = mode
    if (at !== undefined) offset.value = String(at)
    syncInputs()
    browseForm.scrollIntoView?.({ block: 'start' })
    return browse()
  }
  browseForm.addEventListener('submit', (event) => {
    event.preventDefault()
    browse()
  })

  const refresh = async () => {
    const s = await api.get(`/streams/${api.enc(name)}`)
    if (!route.signal.aborted) showPartitions(s)
  }
  const timer = setInterval(() => refresh().catch(() => {}), REFRESH_MS)
  route.signal.addEventListener('abort', () => clearInterval(timer))
  const produce = produceForm({
    partitions: stream.partitions.length,
    send: async (message) => {
      const { positions } = await api.post(`/streams/${api.enc(name)}/messages`, message)
      const at = positions[0]
      notify(`Produced to partition ${at.partition} at offset ${at.offset}.`)
      await refresh()
    },
  })

  // ---- edit: partitions only grow (as Kafka's CreatePartitions); retention and size limits change in place ----
  const editPartitions = h('input', {
    type: 'number',
    name: 'partitions',
    // Not min = current: the API's refusal says why partitions cannot shrink, a browser's bound would not.
    min: '1',
    max: '4096',
    value: String(c.partitions),
  })
  const editRetention = h('input', {
    type: 'number',
    name: 'retentionHours',
    min: '-1',
    step: 'any',
    value: c.retentionMs < 0 ? '-1' : String(c.retentionMs / 3600_000),
  })
  const editRetentionBytes = h('input', { type: 'number', name: 'retentionBytes', min: '-1', value: String(c.retentionBytes) })
  const editMaxMessage = h('input', { type: 'number', name: 'maxMessageBytes', min: '1', value: String(c.maxMessageBytes) })
  const save = h('button', { type: 'submit' }, 'Save configuration')
  const editForm = h(
    'form',
    { class: 'stack' },
    field('Partitions (can only grow)', editPartitions),
    field('Retention (hours, -1 = forever)', editRetention),
    field('Retention size per partition (bytes, -1 = no size bound)', editRetentionBytes),
    field('Max message size (bytes)', editMaxMessage),
    h('div', {}, save),
  )
  editForm.addEventListener('submit', async (event) => {
    event.preventDefault()
    const hours = Number(editRetention.value)
    const changed = await act(
      save,
      () =>
        api.put(`/streams/${api.enc(name)}`, {
          partitions: Number(editPartitions.value),
          retentionMs: hours < 0 ? -1 : Math.round(hours * 3600_000),
          retentionBytes: Number(editRetentionBytes.value),
          maxMessageBytes: Number(editMaxMessage.value),
        }),
      (x) => `Saved the configuration of ${name} (${x.partitions.length} partition(s)).`,
    )
    if (changed && !route.signal.aborted) {
      showPartitions(changed)
    }
  })

  // ---- who reads it: consumer groups (with their live members) and queues ----
  const consumersBox = h('div', {})
  const showConsumers = (x) =>
    consumersBox.replaceChildren(
      table({
        caption: `${x.groups.length} consumer group(s)`,
        empty: 'No consumer group reads this stream.',
        columns: [
          { label: 'Group', value: (g) => link(`#/groups/${encodeURIComponent(g.group)}`, g.group) },
          { label: 'State', value: (g) => g.state },
          {
            label: 'Members on this stream',
            value: (g) =>
              g.members.length === 0
                ? '—'
                : g.members
                    .map((m) => {
                      const mine = m.assignment?.find((a) => a.stream === name)
                      return `${m.clientId} (${m.clientHost}) · partitions ${mine?.partitions.join(', ') ?? '?'}`
                    })
                    .join('\n'),
          },
          { label: 'Lag', value: (g) => fmt.num(g.lag), num: true },
        ],
        rows: x.groups,
      }),
      x.queues.length > 0
        ? h(
            'p',
            {},
            'Queues reading it: ',
            x.queues.flatMap((q, i) => [
              i ? ', ' : '',
              link(`#/queues/${encodeURIComponent(q.queue)}`, q.queue),
              ` (${fmt.num(q.consumers)} consumer(s))`,
            ]),
          )
        : null,
    )
  const refreshConsumers = async () => {
    const x = await api.get(`/streams/${api.enc(name)}/consumers`)
    if (!route.signal.aborted) showConsumers(x)
  }
  await refreshConsumers()
  const consumersTimer = setInterval(() => refreshConsumers().catch(() => {}), REFRESH_MS)
  route.signal.addEventListener('abort', () => clearInterval(consumersTimer))

  const del = h('button', { type: 'button', class: 'danger' }, 'Delete stream')
  del.addEventListener('click', async () => {
    const force = stream.queues.length > 0
    const ok = await confirmDialog({
      title: `Delete stream ${name}?`,
      message: force
        ? `This deletes every message and the queues reading it (${stream.queues.join(', ')}). It cannot be undone.`
        : 'This deletes every message in it. It cannot be undone.',
      confirmLabel: 'Delete stream',
      typeToConfirm: name,
    })
    if (!ok) return
    const done = await act(del, () => api.del(`/streams/${api.enc(name)}${force ? '?force=true' : ''}`))
    if (done) {
      location.hash = '#/streams'
      notify(`Deleted stream ${name}.`)
    }
  })

  const element = h(
    'div',
    {},
    h('p', { class: 'crumbs' }, link('#/streams', 'Streams'), ' / '),
    h('h1', {}, name, ' ', roleBadge(stream)),
    h('div', { class: 'toolbar' }, del),
    h('h2', {}, 'Partitions'),
    partitionsBox,
    panel('browse-h', 'Browse messages', browseForm, results),
    h(
      'div',
      { class: 'cols' },
      panel('config-h', 'Configuration', config),
      panel('produce-h', 'Produce a test message', produce),
    ),
    panel('consumers-h', 'Consumers', consumersBox),
    panel('edit-h', 'Edit configuration', editForm),
  )
  if (q.has('from')) queueMicrotask(browse)
  return element
}
