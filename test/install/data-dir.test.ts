// Where a service's data goes when no --data-dir is given: systemd starts services in `/`, where the default
// ./data would be /data. The installed command (bin/wharf.js over dist/) is run as a service manager runs it.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { freePort } from '../fixtures/wharf-process.ts'
import { launch, root, stopWithSigterm, waitReady } from './harness.ts'

const bin = join(root, 'bin', 'wharf.js')
const built = existsSync(join(root, 'dist', 'index.js'))
/** No data dir setting inherited (undefined removes a variable), and only the HTTP listener, on httpPort. */
function serviceEnv(httpPort: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const ports = {
    WHARF_HTTP_PORT: `${httpPort}`,
    WHARF_KAFKA_PORT: '0',
    WHARF_AMQP_PORT: '0',
    WHARF_MQTT_PORT: '0',
    WHARF_STOMP_PORT: '0',
  }
  return { WHARF_DATA_DIR: undefined, WHARF_CONFIG: undefined, STATE_DIRECTORY: undefined, ...ports, ...extra }
}

describe('wharf start from / (as systemd runs it)', { skip: built ? false : 'dist/ not built' }, () => {
  test('without a data dir it refuses, naming --data-dir, and creates nothing', async () => {
    const started = launch(process.execPath, [bin, 'start'], { cwd: '/', env: serviceEnv(await freePort()) })
    await started.exited
    assert.equal(started.launcher.exitCode, 1)
    assert.match(started.output(), /--data-dir/)
    assert.ok(!existsSync('/data/wharf-format.json'), 'nothing was written to /data')
  })

  test('with StateDirectory= ($STATE_DIRECTORY) the data goes there', async (t) => {
    const state = mkdtempSync(join(tmpdir(), 'wharf-state-'))
    t.after(() => rmSync(state, { recursive: true, force: true }))
    const httpPort = await freePort()
    const started = launch(process.execPath, [bin, 'start'], {
      cwd: '/',
      env: serviceEnv(httpPort, { STATE_DIRECTORY: state }),
    })
    await waitReady(started.launcher, httpPort, started.output)
    assert.ok(existsSync(join(state, 'wharf-format.json')), 'the data directory is $STATE_DIRECTORY')
    await stopWithSigterm(started, httpPort, state)
  })
})
