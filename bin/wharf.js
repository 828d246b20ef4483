#!/usr/bin/env -S node --v8-pool-size=1
// Runs the compiled CLI; `npm ci` builds dist/ through the `prepare` script.
// --v8-pool-size=1: one V8 helper thread instead of four. On a box where the broker shares its cores with
// clients, GC pauses that join four helpers wait for the ones not scheduled; with one, AMQP persistent p99
// at 4k msg/s went from 5–8 ms to ~3 ms on 2 cores (throughput unchanged). `npm start` passes the same flag;
// `node --v8-pool-size=N bin/wharf.js` overrides it.
import { main } from '../dist/cli/main.js'

main(process.argv).catch((error) => {
  process.stderr.write(`wharf: ${error?.message ?? error}\n`)
  process.exitCode = 1
})
