// An OffsetStore held in memory: the embedded in-memory broker's store and the tests' double. Durable
// stores implement the same interface over the cursor store.
import type { OffsetStore } from './types.js'

export class MemoryOffsetStore implements OffsetStore {
  /** groupId → "topic\0partition" → committed offset. Topic names cannot contain NUL in any protocol we speak. */
  private readonly groups = new Map<
    string,
    Map<string, { topic: string; partition: number; offset: number; metadata: string }>
  >()

  constructor(private readonly exists: (topic: string, partition: number) => boolean = () => true) {}

  commit(groupId: string, topic: string, partition: number, offset: number, metadata: string): Promise<void> {
    let offsets = this.groups.get(groupId)
    if (offsets === undefined) {
      offsets = new Map()
      this.groups.set(groupId, offsets)
    }
    offsets.set(`${topic}\0${partition}`, { topic, partition, offset, metadata })
    return Promise.resolve()
  }

  fetch(groupId: string, topic: string, partition: number): { offset: number; metadata: string } | undefined {
    const entry = this.groups.get(groupId)?.get(`${topic}\0${partition}`)
    return entry === undefined ? undefined : { offset: entry.offset, metadata: entry.metadata }
  }

  listPartitions(groupId: string): Array<{ topic: string; partition: number }> {
    return [...(this.groups.get(groupId)?.values() ?? [])].map(({ topic, partition }) => ({ topic, partition }))
  }

  listGroups(): string[] {
    return [...this.groups.keys()]
  }

  deleteGroup(groupId: string): Promise<void> {
    this.groups.delete(groupId)
    return Promise.resolve()
  }

  topicExists(topic: string, partition: number): boolean {
    return this.exists(topic, partition)
  }
}
