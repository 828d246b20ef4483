// The part of stompit's API the tests use (the package ships no types).
declare module 'stompit' {
  import type { Readable, Writable } from 'node:stream'

  namespace stompit {
    interface Message extends Readable {
      headers: Record<string, string>
      readString(encoding: string, callback: (error: Error | null, body?: string) => void): void
    }
    interface Transaction {
      id: string
      send(headers: Record<string, string>): Writable
      commit(headers?: Record<string, string>): void
      abort(headers?: Record<string, string>): void
    }
    interface Client {
      begin(headers?: Record<string, string>): Transaction
      subscribe(
        headers: Record<string, string>,
        onMessage: (error: Error | null, message: Message) => void,
      ): { unsubscribe(): void }
      ack(message: Message, headers?: Record<string, string>): void
      send(headers: Record<string, string>, options?: { onReceipt?: () => void }): Writable
      on(event: 'error', listener: (error: Error) => void): this
      destroy(error?: Error): void
      disconnect(callback?: (error: Error | null) => void): void
    }
    function connect(
      options: { host: string; port: number; connectHeaders?: Record<string, string> },
      callback: (error: Error | null, client: Client) => void,
    ): Client
  }
  export default stompit
}
