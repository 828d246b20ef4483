// A Kafka client over a raw socket built on Wharf's own codec, for what no installed client sends (pipelining,
// bad input, the SCRAM credential APIs): requests framed by hand, responses read one at a time.
import net from 'node:net'
import { decodeResponseHeader } from '../../../src/protocols/kafka/codec/generated/response-header.ts'
import {
  encodeRequestFrame,
  FrameSplitter,
  type KafkaApi,
  kafkaApis,
  Reader,
} from '../../../src/protocols/kafka/codec/index.ts'

export const api = (key: number) => kafkaApis.get(key)! as KafkaApi<unknown, unknown>

export class RawClient {
  readonly socket: net.Socket
  readonly frames: Buffer[] = []
  closed: Promise<void>
  private readonly splitter = new FrameSplitter()
  private waiters: Array<() => void> = []

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1')
    this.socket.on('data', (chunk) => {
      this.frames.push(...this.splitter.push(chunk))
      for (const w of this.waiters.splice(0)) w()
    })
    this.socket.on('error', () => {})
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()))
  }

  send(key: number, version: number, correlationId: number, body: unknown): void {
    const { chunks } = encodeRequestFrame(api(key), version, correlationId, 'raw', body)
    this.socket.write(Buffer.concat(chunks))
  }

  async next(timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs
    while (this.frames.length === 0) {
      if (Date.now() > deadline) throw new Error('no response')
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve)
        setTimeout(resolve, 100)
      })
    }
    return this.frames.shift()!
  }

  /** Reads one response: its correlation id and body decoded at (key, version, header version). */
  async response<T>(key: number, version: number): Promise<{ correlationId: number; body: T }> {
    const frame = await this.next()
    const r = new Reader(frame)
    const { correlationId } = decodeResponseHeader(r, api(key).responseHeaderVersion(version))
    return { correlationId, body: api(key).decodeResponse(r, version) as T }
  }
}
