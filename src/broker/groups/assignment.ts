// The partitions a classic consumer-group member was assigned, read from the assignment bytes the group
// leader chose (protocol type "consumer": Kafka's ConsumerProtocolAssignment — int16 version, then an array
// of topic name + int32 partitions; later versions only append fields). The coordinator stores these bytes
// opaquely; this reading is for describing groups to operators, so bytes it cannot read give undefined.

export interface AssignedPartitions {
  stream: string
  partitions: number[]
}

/** The assignment's streams and partitions, or undefined when the bytes are not a consumer-protocol assignment. */
export function readConsumerAssignment(bytes: Buffer): AssignedPartitions[] | undefined {
  try {
    let pos = 2 // version
    const topics = bytes.readInt32BE(pos)
    pos += 4
    if (topics < 0 || topics > bytes.length) return undefined
    const out: AssignedPartitions[] = []
    for (let i = 0; i < topics; i++) {
      const nameLength = bytes.readInt16BE(pos)
      pos += 2
      if (nameLength < 0 || pos + nameLength > bytes.length) return undefined
      const stream = bytes.toString('utf8', pos, pos + nameLength)
      pos += nameLength
      const count = bytes.readInt32BE(pos)
      pos += 4
      if (count < 0 || pos + count * 4 > bytes.length) return undefined
      const partitions: number[] = []
      for (let p = 0; p < count; p++, pos += 4) partitions.push(bytes.readInt32BE(pos))
      out.push({ stream, partitions })
    }
    return out
  } catch {
    return undefined // shorter than its counts say
  }
}
