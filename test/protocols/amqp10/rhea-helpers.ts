// rhea helpers of the addressing and JMS tests: wait for an event, gather a receiver's messages, send and
// wait for the outcomes.
import type rhea from 'rhea'

/** Resolves with the next `event` of a link or connection (rejects after 10 s). */
export function once(
  emitter: rhea.Sender | rhea.Receiver | rhea.Connection,
  event: string,
): Promise<rhea.EventContext> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} in time`)), 10_000)
    emitter.once(event as never, (ctx: rhea.EventContext) => {
      clearTimeout(timer)
      resolve(ctx)
    })
  })
}

export function bodyText(body: unknown): string {
  if (typeof body === 'string') return body
  const content = (body as { content?: Buffer }).content
  return Buffer.from(content ?? (body as Buffer)).toString()
}

/** Gathers the messages of a receiver. */
export function gather(receiver: rhea.Receiver): {
  messages: rhea.Message[]
  bodies(): string[]
  next(n: number): Promise<rhea.Message[]>
} {
  const messages: rhea.Message[] = []
  receiver.on('message', (ctx) => {
    messages.push(ctx.message!)
  })
  return {
    messages,
    bodies: () => messages.map((m) => bodyText(m.body)),
    async next(n) {
      const deadline = Date.now() + 10_000
      while (messages.length < n) {
        if (Date.now() > deadline) throw new Error(`got ${messages.length} of ${n} messages`)
        await new Promise((r) => setTimeout(r, 20))
      }
      return messages.slice(0, n)
    },
  }
}

/** Sends the messages on a new sender to `address` and waits until each is accepted. */
export async function sendAll(connection: rhea.Connection, address: string, messages: rhea.Message[]): Promise<void> {
  const sender = connection.open_sender(address)
  await once(sender, 'sendable')
  let accepted = 0
  const done = new Promise<void>((resolve, reject) => {
    sender.on('accepted', () => {
      if (++accepted === messages.length) resolve()
    })
    sender.on('rejected', (ctx) => reject(new Error(`rejected: ${JSON.stringify(ctx.delivery!.remote_state)}`)))
  })
  for (const m of messages) sender.send(m)
  await done
  sender.close()
}

/** Waits until `check` holds (10 s at most); returns whether it did. */
export async function eventually(check: () => boolean): Promise<boolean> {
  const deadline = Date.now() + 10_000
  while (!check()) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 20))
  }
  return true
}
