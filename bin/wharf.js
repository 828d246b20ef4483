#!/usr/bin/env -S node --v8-pool-size=1 --initial-old-space-size=128
// Runs the compiled CLI; `npm ci` builds dist/ through the `prepare` script.
// --v8-pool-size=1: one V8 helper thread instead of four. On a box where the broker shares its cores with
// clients, GC pauses that join four helpers wait for the ones not scheduled, which shows in the tail latency.
// --initial-old-space-size=128: V8 sizes the old generation from the live heap (a few tens of MB here), so
// under steady load it would run a mark-compact about once a second; starting larger makes them rare.
// (Measurements: the commits that added the flags and bench/results.)
// These flags live only here: `npm start` runs this file too; `node <flags> bin/wharf.js` overrides them.
const entry = new URL('../dist/cli/main.js', import.meta.url)
const { main } = await import(entry.href).catch((error) => {
  // A clone installed with `npm ci --omit=dev` has no TypeScript to build dist/ with.
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !error.message.includes(entry.pathname)) throw error
  process.stderr.write('wharf: dist/ is not built; run `npm ci` (with dev dependencies) or `npm run build` first\n')
  process.exit(1)
})

// Started by `npm start` or `npx`, Wharf runs below npm, which on SIGTERM (docker stop, systemd, ^C from a
// supervisor) signals only its direct child: with npx that child is a `sh -c` that dies without passing the signal
// on, leaving the broker running with no parent. So under npm the broker follows its launcher: once re-parented, it
// stops as on SIGTERM. (`npm start` execs this file, so there npm's own forwarding reaches the broker first.)
const launcher = process.env.npm_lifecycle_event
if (launcher === 'start' || launcher === 'npx') {
  const parent = process.ppid
  const watch = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(watch) // once: a second SIGTERM would find no handler and end the process mid-close
    process.kill(process.pid, 'SIGTERM')
  }, 500).unref()
}

main(process.argv).catch((error) => {
  process.stderr.write(`wharf: ${error?.message ?? error}\n`)
  process.exitCode = 1
})
