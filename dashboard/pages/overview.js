// Overview: counts, stored bytes, listeners with their connections, and live charts of message rates
// and queued messages. Rates are computed here from /metrics counters sampled every 2 s.
import { api, fetchMetrics, sumMetric } from '../lib/api.js'
import { fmt, h, link, showError, table } from '../lib/dom.js'

const POLL_MS = 2000
const POINTS_MAX = 150 // 5 minutes at 2 s
const WINDOW_S = (POINTS_MAX * POLL_MS) / 1000

function card(label, key) {
  const dd = h('dd', { 'data-metric': key }, '—')
  return { element: h('div', { class: 'card' }, h('dt', {}, label), dd), dd }
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#0b5cad'
}

async function makeChart(container, title, series, signal) {
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
      axes: [{ stroke: cssVar('--muted') }, { stroke: cssVar('--muted'), size: 60 }],
      scales: {
        // A window of 1 to 5 minutes ending now, so the first samples do not stretch across a meaningless range.
        x: { time: true, range: (_u, min, max) => [max - Math.min(WINDOW_S, Math.max(60, max - min)), max + 2] },
        y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
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
    push(t, values) {
      data[0].push(t)
      for (const [i, v] of values.entries()) data[i + 1].push(v)
      if (data[0].length > POINTS_MAX) for (const column of data) column.shift()
      plot.setData(data)
    },
  }
}

export async function render(route) {
  const cards = {
    in: card('Messages in /s', 'rate-in'),
    out: card('Deliveries out /s', 'rate-out'),
    messagesIn: card('Messages in (since start)', 'messages-in'),
    ready: card('Ready', 'ready'),
    unacked: card('Unacked', 'unacked'),
    consumers: card('Queue consumers', 'consumers'),
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
  const rateBox = h('figure', { class: 'chart' }, h('figcaption', {}, 'Message rates (per second)'))
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

  let previous = null
  let rateChart = null
  let depthChart = null
  let chartsStarted = false
  const ensureCharts = async () => {
    if (chartsStarted || !element.isConnected || route.signal.aborted) return
    chartsStarted = true
    ;[rateChart, depthChart] = await Promise.all([
      makeChart(
        rateBox,
        'Message rates',
        [
          { label: 'in', color: '--in' },
          { label: 'out', color: '--out' },
        ],
        route.signal,
      ),
      makeChart(
        depthBox,
        'Queued messages',
        [
          { label: 'ready', color: '--in' },
          { label: 'unacked', color: '--out' },
        ],
        route.signal,
      ),
    ])
  }
  const tick = async () => {
    if (document.hidden) return // a background tab does not poll; the next rate spans the gap
    try {
      const [metrics, overview, system, listenerList, alarms] = await Promise.all([
        fetchMetrics(),
        api.get('/overview'),
        api.get('/system'),
        api.get('/listeners'),
        api.get('/alarms'),
      ])
      if (route.signal.aborted) return
      const now = Date.now()
      const totalIn = sumMetric(metrics, 'wharf_topic_messages_in_total')
      // "Out" = queue deliveries (AMQP, SQS, MQTT sessions); Kafka fetches are reads, not deliveries.
      const totalOut = sumMetric(metrics, 'wharf_queue_messages_delivered_total')
      let rateIn = null
      let rateOut = null
      if (previous !== null) {
        const dt = (now - previous.t) / 1000
        rateIn = Math.max(0, (totalIn - previous.in) / dt)
        rateOut = Math.max(0, (totalOut - previous.out) / dt)
      }
      previous = { t: now, in: totalIn, out: totalOut }
      const ready = sumMetric(metrics, 'wharf_queue_messages_ready')
      const unacked = sumMetric(metrics, 'wharf_queue_messages_unacked')
      cards.in.dd.textContent = rateIn === null ? '…' : fmt.rate(rateIn)
      cards.out.dd.textContent = rateOut === null ? '…' : fmt.rate(rateOut)
      cards.messagesIn.dd.textContent = fmt.num(totalIn)
      cards.ready.dd.textContent = fmt.num(ready)
      cards.unacked.dd.textContent = fmt.num(unacked)
      cards.consumers.dd.textContent = fmt.num(sumMetric(metrics, 'wharf_queue_consumers'))
      cards.lag.dd.textContent = fmt.num(sumMetric(metrics, 'wharf_consumer_group_lag'))
      cards.streams.dd.textContent = fmt.num(overview.streams)
      cards.queues.dd.textContent = fmt.num(overview.queues)
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
      const t = Math.floor(now / 1000)
      if (rateIn !== null) rateChart?.push(t, [rateIn, rateOut])
      depthChart?.push(t, [ready, unacked])
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
