// Consumer groups: state, members (client, host, assigned partitions), lag; per-partition committed offsets; offset reset (only while the
// group has no active members — the API refuses otherwise, and says why).
import { api } from '../lib/api.js'
import { act, confirmDialog, field, fmt, h, link, panel, props, table } from '../lib/dom.js'
import { collectionPage } from '../lib/list.js'

const href = (name) => `#/groups/${encodeURIComponent(name)}`

export function render(route) {
  return route.name === undefined ? renderList(route) : renderDetail(route, route.name)
}

function renderList(route) {
  return collectionPage({
    route,
    title: 'Consumer groups',
    path: '/groups',
    noun: 'groups',
    empty: 'No consumer groups yet.',
    columns: [
      { label: 'Group', value: (g) => link(href(g.group), g.group) },
      { label: 'State', value: (g) => g.state },
      { label: 'Members', value: (g) => fmt.num(g.members), num: true },
      { label: 'Streams', value: (g) => [...new Set(g.partitions.map((p) => p.stream))].join(', ') || '—' },
      { label: 'Lag', value: (g) => fmt.num(g.lag), num: true },
    ],
  })
}

async function renderDetail(route, name) {
  const path = `/groups/${api.enc(name)}`
  const summary = h('div', {})
  const partitions = h('div', {})
  const members = h('div', {})
  const show = (g) => {
    members.replaceChildren(
      table({
        caption: `${g.memberDetails.length} member(s)`,
        empty: 'No live members (the group is not consuming now).',
        columns: [
          { label: 'Client id', value: (m) => m.clientId },
          { label: 'Host', value: (m) => m.clientHost },
          { label: 'Member id', value: (m) => m.memberId },
          {
            label: 'Assigned partitions',
            value: (m) =>
              m.assignment.map((a) => `${a.stream}: ${a.partitions.join(', ') || 'none'}`).join('; ') || 'none',
          },
        ],
        rows: g.memberDetails,
      }),
    )
    summary.replaceChildren(
      props([
        ['State', g.state],
        ['Protocol', g.protocolType || '—'],
        ['Members', fmt.num(g.members)],
        ['Total lag', h('span', { 'data-metric': 'lag' }, fmt.num(g.lag))],
      ]),
    )
    partitions.replaceChildren(
      table({
        empty: 'No committed offsets.',
        columns: [
          { label: 'Stream', value: (p) => link(`#/streams/${encodeURIComponent(p.stream)}`, p.stream) },
          { label: 'Partition', value: (p) => String(p.partition), num: true },
          { label: 'Committed offset', value: (p) => (p.committed === null ? '—' : fmt.num(p.committed)), num: true },
          { label: 'End offset', value: (p) => fmt.num(p.highWatermark), num: true },
          { label: 'Lag', value: (p) => fmt.num(p.lag), num: true },
        ],
        rows: g.partitions,
      }),
    )
    resetButton.disabled = !(g.state === 'Empty' || g.state === 'Dead')
    resetHint.textContent = resetButton.disabled
      ? `The group is ${g.state}: stop its consumers before resetting offsets.`
      : 'The group has no active members; offsets can be reset.'
  }
  const refresh = async () => {
    const g = await api.get(path)
    if (!route.signal.aborted) show(g)
  }

  const streams = h('select', { name: 'stream' })
  const to = h(
    'select',
    { name: 'to' },
    [
      ['earliest', 'Earliest'],
      ['latest', 'Latest'],
      ['timestamp', 'Time'],
      ['offset', 'Offset'],
    ].map(([v, l]) => h('option', { value: v }, l)),
  )
  const offset = h('input', { type: 'number', name: 'offset', min: '0', value: '0' })
  const time = h('input', { type: 'datetime-local', name: 'time', step: '1' })
  const sync = () => {
    offset.disabled = to.value !== 'offset'
    time.disabled = to.value !== 'timestamp'
  }
  to.addEventListener('change', sync)
  sync()
  const resetButton = h('button', { type: 'submit', class: 'danger' }, 'Reset offsets')
  const resetHint = h('p', { class: 'hint', role: 'note' })
  const form = h(
    'form',
    { class: 'inline' },
    field('Stream', streams),
    field('Reset to', to),
    field('Offset (every partition)', offset),
    field('Time (local)', time),
    resetButton,
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const body = { stream: streams.value, to: to.value }
    if (to.value === 'offset') body.offset = Number(offset.value)
    if (to.value === 'timestamp') body.timestamp = new Date(time.value).getTime()
    const ok = await confirmDialog({
      title: `Reset ${name} on ${streams.value}?`,
      message: `Every partition's committed offset moves to ${to.value === 'offset' ? `offset ${offset.value}` : to.value === 'timestamp' ? time.value : to.value}. Consumers resume from there.`,
      confirmLabel: 'Reset offsets',
    })
    if (!ok) return
    const result = await act(
      resetButton,
      () => api.post(`${path}/reset`, body),
      (r) => `Reset ${r.offsets.length} partition(s) of ${streams.value}.`,
    )
    if (result) await refresh()
  })

  const first = await api.get(path)
  const names = [...new Set(first.partitions.map((p) => p.stream))]
  streams.replaceChildren(...names.map((s) => h('option', { value: s }, s)))
  if (names.length === 0) resetButton.disabled = true
  show(first)
  const timer = setInterval(() => refresh().catch(() => {}), 2000)
  route.signal.addEventListener('abort', () => clearInterval(timer))
  return h(
    'div',
    {},
    h('p', { class: 'crumbs' }, link('#/groups', 'Consumer groups'), ' / '),
    h('h1', {}, name),
    summary,
    h('h2', {}, 'Members'),
    members,
    h('h2', {}, 'Offsets and lag per partition'),
    partitions,
    panel('reset-h', 'Reset offsets', resetHint, form),
  )
}
