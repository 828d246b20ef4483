// Overview: counts, stored bytes, listeners with their connections, and charts of message rates and queued
// messages. Rates come from the server's sampled history (GET /api/v1/rates: the last hour, so the charts are
// full on load); "out" counts every protocol's consumers (queue deliveries, Kafka fetches, MQTT sends).
// Only the REST API is read, never /metrics (whose series names are for Prometheus and may change).
import { api } from '../lib/api.js'
import { fmt, h, link, showError, table } from '../lib/dom.js'

const POLL_MS = 5000
/** The chart spans at least this much, so a fresh broker's few samples do not stretch across the width. */
const WINDOW_MIN_S = 300

function card(label, key) {
  const dd = h('dd', { 'data-metric': key }, '—')
  return { element: h('div', { class: 'card' }, h('dt', {}, label), dd), dd }
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#0b5cad'
}

async function makeChart(container, title, series, signal, windowS) {
  let uPlot
  try {
    uPlot = (await import('/dashboard/vendor/uPlot.esm.js')).default
  } catch {
    container.append(h('p', { class: 'empty' }, 'Chart library not installed.'))
    return null
  }
  if (signal.aborted) return null
  const data = [[], ...series.map(() => [])]
  const width = Math.max(300, container.clientWidth - 16)
  const plot = new uPlot(
    {
      title: undefined,
      width,
      height: 220,
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: cssVar(s.color),
          width: 2,
          value: (_u, v) => (v === null ? '—' : fmt.rate(v)),
        })),
      ],
      axes: [
        {
          stroke: cssVar('--muted'),
          // Local clock times; the ticks drawn are also kept on the figure (data-x-ticks, epoch seconds), so
          // what the axis shows can be checked without reading the canvas.
          values: (_u, splits) => {
            container.dataset.xTicks = JSON.stringify(splits)
            return splits.map((s) => new Date(s * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }))
          },
        },
        { stroke: cssVar('--muted'), size: 60 },
      ],
      scales: {
        // The history's window ending now. With no sample yet uPlot passes null bounds, which would put the axis
        // at the epoch: the window then ends at the current time.
        x: {
          time: true,
          range: (_u, _min, max) => {
            const end = Number.isFinite(max) && max !== null ? max : Date.now() / 1000
            return [end - windowS, end + 2]
          },
        },
        y: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 0) * 1.1)] },
      },
    },
    data,
    container,
  )
  plot.root.setAttribute('aria-label', `${title} chart; the current values are in the cards above`)
  plot.root.setAttribute('role', 'img')
  const observer = new ResizeObserver(() =>
    plot.setSize({ width: Math.max(300, container.clientWidth - 16), height: 220 }),
  )
  observer.observe(container)
  signal.addEventListener('abort', () => {
    observer.disconnect()
    plot.destroy()
  })
  return {
    /** Appends samples ([t seconds, ...values]) and drops those older than the window. */
    push(rows) {
      for (const [t, ...values] of rows) {
        data[0].push(t)
        for (const [i, v] of values.entries()) data[i + 1].push(v)
      }
      const oldest = (data[0].at(-1) ?? 0) - windowS
      while (data[0].length > 0 && data[0][0] < oldest) for (const column of data) column.shift()
      plot.setData(data)
      return { count: data[0].length, from: data[0][0] }
    },
  }
}

export async function render(route) {
  const cards = {
    in: card('Messages in /s', 'rate-in'),
    out: card('Messages out /s (all consumers)', 'rate-out'),
    outDetail: card('Out /s by consumer', 'rate-out-detail'),
    messagesIn: card('Messages in (since start)', 'messages-in'),
    ready: card('Ready', 'ready'),
    unacked: card('Unacked', 'unacked'),
    consumers: card('Queue consumers', 'consumers'),
    members: card('Consumer group members', 'members'),
    lag: card('Consumer group lag', 'lag'),
    streams: card('Streams', 'streams'),
    queues: card('Queues', 'queues'),
    exchanges: card('Exchanges', 'exchanges'),
    groups: card('Consumer groups', 'groups'),
    topics: card('SNS topics', 'topics'),
    connections: card('Client connections', 'connections'),
    stored: card('Stored on disk', 'stored'),
    uptime: card('Uptime', 'uptime'),
    alarms: card('Alarms', 'alarms'),
  }
  const rateCaption = h('figcaption', {}, 'Message rates (per second, last hour)')
  const rateBox = h('figure', { class: 'chart' }, rateCaption)
  const depthBox = h('figure', { class: 'chart' }, h('figcaption', {}, 'Queued messages'))
  const listeners = h('div', {}, h('p', { class: 'empty' }, 'Loading…'))
  const updated = h('p', { class: 'hint' }, '')
  const element = h(
    'div',
    {},
    h('h1', {}, 'Overview'),
    h(
      'dl',
      { class: 'cards' },
      Object.values(cards).map((c) => c.element),
    ),
    updated,
    h('h2', {}, 'Live'),
    h('div', { class: 'charts' }, rateBox, depthBox),
    h('h2', {}, 'Listeners'),
    listeners,
  )

  let rateChart = null
  let depthChart = null
  let chartsStarted = false
  /** Samples fetched before the charts exist; drawn when they do. */
  let pending = []
  let since = 0
  let windowS = WINDOW_MIN_S
  let sampleMs = POLL_MS
  const ensureCharts = async () => {
    if (chartsStarted || !element.isConnected || route.signal.aborted) return
    chartsStarted = true
    ;[rateChart, depthChart] = await Promise.all([
      makeChart(
        rateBox,
        'Message rates',
        [
          { label: 'in', color: '--in' },
          { label: 'out (all consumers)', color: '--out' },
          { label: 'Kafka', color: '--kafka' },
          { label: 'MQTT', color: '--mqtt' },
        ],
        route.signal,
        windowS,
      ),
      makeChart(
        depthBox,
        'Queued messages',
        [
          { label: 'ready', color: '--in' },
          { label: 'unacked', color: '--out' },
        ],
        route.signal,
        windowS,
      ),
    ])
    drawPending()
  }
  const drawPending = () => {
    if (rateChart === null || depthChart === null || pending.length === 0) return
    const shown = rateChart.push(pending.map((x) => [x.t / 1000, x.in, x.out, x.kafka, x.mqtt]))
    rateBox.dataset.samples = String(shown.count)
    rateCaption.textContent = `Message rates (per second): ${shown.count} sample(s) since ${new Date(shown.from * 1000).toLocaleTimeString()}, one every ${sampleMs / 1000} s`
    depthChart.push(pending.map((x) => [x.t / 1000, x.ready, x.unacked]))
    pending = []
  }
  const tick = async () => {
    if (document.hidden) return // a background tab does not poll; the server keeps sampling meanwhile
    try {
      const [rates, overview, streams, queues, system, listenerList, alarms] = await Promise.all([
        api.get(`/rates?since=${since}`),
        api.get('/overview'),
        // The same lists (and so the same counts) as the Streams and Queues pages show by default.
        api.get('/streams?internal=false&limit=1'),
        api.get('/queues?internal=false&limit=1'),
        api.get('/system'),
        api.get('/listeners'),
        api.get('/alarms'),
      ])
      if (route.signal.aborted) return
      const now = Date.now()
      windowS = Math.max(WINDOW_MIN_S, rates.historyMs / 1000)
      sampleMs = rates.sampleMs
      if (rates.samples.length > 0) since = rates.samples.at(-1).t
      pending.push(...rates.samples)
      const last = rates.samples.at(-1)
      const totals = rates.totals
      cards.in.dd.textContent = last === undefined ? '…' : fmt.rate(last.in)
      cards.out.dd.textContent = last === undefined ? '…' : fmt.rate(last.out)
      cards.outDetail.dd.textContent =
        last === undefined
          ? '…'
          : `queues ${fmt.rate(last.queues)} · Kafka ${fmt.rate(last.kafka)} · MQTT ${fmt.rate(last.mqtt)}`
      cards.messagesIn.dd.textContent = fmt.num(totals.messagesIn)
      cards.ready.dd.textContent = fmt.num(totals.ready)
      cards.unacked.dd.textContent = fmt.num(totals.unacked)
      cards.consumers.dd.textContent = fmt.num(totals.queueConsumers)
      cards.members.dd.textContent = fmt.num(totals.groupMembers)
      cards.lag.dd.textContent = fmt.num(totals.lag)
      cards.streams.dd.textContent = fmt.num(streams.total)
      cards.queues.dd.textContent = fmt.num(queues.total)
      cards.exchanges.dd.textContent = fmt.num(overview.exchanges)
      cards.groups.dd.textContent = fmt.num(overview.groups)
      cards.topics.dd.textContent = fmt.num(overview.topics)
      // Total over the listeners that count, then per protocol: "3 (kafka 1 · amqp 2 · mqtt 0)".
      const counted = listenerList.items.filter((l) => typeof l.connections === 'number')
      const totalConnections = counted.reduce((n, l) => n + l.connections, 0)
      cards.connections.dd.textContent =
        counted.length === 0
          ? '—'
          : `${fmt.num(totalConnections)} (${counted.map((l) => `${l.name} ${fmt.num(l.connections)}`).join(' · ')})`
      cards.stored.dd.textContent = fmt.bytes(system.storedBytes)
      cards.uptime.dd.textContent = fmt.duration(system.uptimeSeconds)
      cards.alarms.dd.textContent =
        alarms.alarms.length === 0
          ? 'none'
          : `${alarms.alarms.map((a) => a.kind).join(', ')} (${fmt.num(alarms.blockedPublishers)} blocked)`
      cards.alarms.element.classList.toggle('alarm', alarms.alarms.length > 0)
      updated.textContent = `Updated ${new Date(now).toLocaleTimeString()} · refreshes every ${POLL_MS / 1000} s`
      listeners.replaceChildren(
        table({
          columns: [
            { label: 'Protocol', value: (l) => l.name },
            { label: 'Port', value: (l) => String(l.port), num: true },
            { label: 'Address', value: (l) => l.urls.join(' ') || '—' },
            {
              label: 'Connections',
              value: (l) => (l.connections === null ? 'not reported' : fmt.num(l.connections)),
              num: true,
            },
          ],
          rows: listenerList.items,
          empty: 'No listeners reported.',
        }),
        h('p', { class: 'hint' }, link('#/connections', 'Connections per protocol')),
      )
      await ensureCharts()
      drawPending()
    } catch (error) {
      if (!route.signal.aborted) showError(error)
    }
  }
  await tick()
  setTimeout(ensureCharts, 0) // once the page is in the document and has a width
  const timer = setInterval(tick, POLL_MS)
  route.signal.addEventListener('abort', () => clearInterval(timer))
  return element
}
