// Which live broker should own each durable log: the controller's pure decision, applied row by row with
// conditional UPDATEs (controller.ts). Stable: a log whose owner is live stays where it is unless that owner
// holds more than its share, ceil(logs / members); orphans (no owner, or an owner whose lease expired) and the
// logs shed by overloaded members go to the least-loaded member first, ties to the lowest id, so a broker
// that joins receives logs until the counts are even within one share.

export interface LogOwner {
  name: string
  /** Node id of the current owner, or null when the log never had one. */
  owner: number | null
}

export interface Move {
  name: string
  from: number | null
  to: number
}

export function assignLogs(logs: readonly LogOwner[], members: readonly number[]): Move[] {
  if (members.length === 0 || logs.length === 0) return []
  const ids = [...new Set(members)].sort((a, b) => a - b)
  const share = Math.ceil(logs.length / ids.length)
  const held = new Map<number, string[]>(ids.map((id) => [id, []]))
  const homeless: LogOwner[] = []
  for (const log of [...logs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const list = log.owner === null ? undefined : held.get(log.owner)
    if (list === undefined) homeless.push(log)
    else list.push(log.name)
  }
  // An overloaded member keeps its first `share` logs (by name) and gives up the rest.
  for (const [id, names] of held) {
    for (const name of names.splice(share)) homeless.push({ name, owner: id })
  }
  const moves: Move[] = []
  for (const log of homeless) {
    let to = ids[0]!
    for (const id of ids) if (held.get(id)!.length < held.get(to)!.length) to = id
    held.get(to)!.push(log.name)
    if (to !== log.owner) moves.push({ name: log.name, from: log.owner, to })
  }
  return moves
}
