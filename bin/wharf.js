#!/usr/bin/env -S node --v8-pool-size=1 --initial-old-space-size=128
// Runs the compiled CLI; `npm ci` builds dist/ through the `prepare` script.
// --v8-pool-size=1: one V8 helper thread instead of four. On a box where the broker shares its cores with
// clients, GC pauses that join four helpers wait for the ones not scheduled; with one, AMQP persistent p99
// at 4k msg/s went from 5–8 ms to ~3 ms on 2 cores (throughput unchanged).
// --initial-old-space-size=128: V8 sizes the old generation from the live heap (~20 MB here), so under
// steady load it ran a mark-compact about once a second, with incremental steps of up to 4 ms; starting at
// 128 MB removed them (29 → 2 per 20 s) and took transient p99 at 4.5k msg/s from 3.3–4.3 to 2.2–3.1 ms.
// These flags live only here: `npm start` runs this file too; `node <flags> bin/wharf.js` overrides them.
import { main } from '../dist/cli/main.js'

main(process.argv).catch((error) => {
  process.stderr.write(`wharf: ${error?.message ?? error}\n`)
  process.exitCode = 1
})
