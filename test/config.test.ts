import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { defaultConfig, envName, flagName, loadConfig, type WharfConfig } from '../src/server/config.ts'
import { isWharfError } from '../src/util/errors.ts'

test('defaults: ./data relative to cwd and the standard ports', () => {
  const config = loadConfig({ env: {}, cwd: '/srv/w' })
  assert.equal(config.dataDir, '/srv/w/data')
  assert.deepEqual([config.kafkaPort, config.amqpPort, config.mqttPort, config.httpPort], [9092, 5672, 1883, 8080])
})

test('data dir default: $STATE_DIRECTORY (systemd), else ./data, but never /data from a working directory of /', () => {
  assert.equal(
    loadConfig({ env: { STATE_DIRECTORY: '/var/lib/wharf:/var/lib/other' }, cwd: '/' }).dataDir,
    '/var/lib/wharf',
  )
  assert.throws(
    () => loadConfig({ env: {}, cwd: '/' }),
    (error: unknown) => isWharfError(error) && error.code === 'INVALID_CONFIG' && /--data-dir/.test(error.message),
  )
  // Said explicitly, /data is what the user asked for (the Docker image's volume).
  assert.equal(loadConfig({ env: { WHARF_DATA_DIR: '/data' }, cwd: '/' }).dataDir, '/data')
  assert.equal(loadConfig({ env: {}, flags: { dataDir: 'data' }, cwd: '/' }).dataDir, '/data')
  assert.equal(loadConfig({ env: { STATE_DIRECTORY: '/var/lib/wharf', WHARF_DATA_DIR: '/x' }, cwd: '/' }).dataDir, '/x')
})

test('precedence: defaults < file < env < flags', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-config-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'wharf.json')
  writeFileSync(file, JSON.stringify({ dataDir: '/from-file', kafkaPort: 1000, amqpPort: 1001, mqttPort: 1002 }))
  const env = { WHARF_AMQP_PORT: '2001', WHARF_MQTT_PORT: '2002' }
  const config = loadConfig({ configFile: file, env, flags: { mqttPort: 0 }, cwd: dir })
  assert.equal(config.dataDir, '/from-file')
  assert.equal(config.kafkaPort, 1000)
  assert.equal(config.amqpPort, 2001)
  assert.equal(config.mqttPort, 0)
  assert.equal(config.httpPort, 8080)
})

test('names: WHARF_DATA_DIR and --data-dir', () => {
  assert.equal(envName('dataDir'), 'WHARF_DATA_DIR')
  assert.equal(flagName('httpPort'), 'http-port')
  assert.equal(loadConfig({ env: { WHARF_DATA_DIR: '/env/dir' } }).dataDir, '/env/dir')
})

test('bad values are typed INVALID_CONFIG errors', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-config-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const bad = join(dir, 'bad.json')
  writeFileSync(bad, '{ not json')
  const cases = [
    () => loadConfig({ env: { WHARF_KAFKA_PORT: 'x' } }),
    () => loadConfig({ env: { WHARF_KAFKA_PORT: '70000' } }),
    () => loadConfig({ env: {}, flags: { durability: 'sometimes' } }),
    () => loadConfig({ env: {}, configFile: bad }),
    () => loadConfig({ env: {}, configFile: join(dir, 'missing.json') }),
    () => loadConfig({ env: {}, flags: { nope: 1 } as never }),
  ]
  for (const run of cases) assert.throws(run, (error) => isWharfError(error, 'INVALID_CONFIG'))
})

test('Kafka listener settings follow the same precedence (WHARF_KAFKA_* env, --kafka-* flags)', () => {
  const fromEnv = loadConfig({ env: { WHARF_KAFKA_AUTO_CREATE_TOPICS: 'false', WHARF_KAFKA_DEFAULT_PARTITIONS: '4' } })
  assert.equal(fromEnv.kafkaAutoCreateTopics, false)
  assert.equal(fromEnv.kafkaDefaultPartitions, 4)
  assert.equal(fromEnv.kafkaAdvertisedHost, '')
  const fromFlags = loadConfig({
    env: { WHARF_KAFKA_DEFAULT_PARTITIONS: '4' },
    flags: { kafkaDefaultPartitions: '8', kafkaAdvertisedHost: 'broker.local' },
  })
  assert.equal(fromFlags.kafkaDefaultPartitions, 8)
  assert.equal(fromFlags.kafkaAdvertisedHost, 'broker.local')
  assert.throws(
    () => loadConfig({ env: { WHARF_KAFKA_DEFAULT_PARTITIONS: '0' } }),
    (e) => isWharfError(e, 'INVALID_CONFIG'),
  )
  assert.throws(
    () => loadConfig({ env: { WHARF_KAFKA_AUTO_CREATE_TOPICS: 'maybe' } }),
    (e) => isWharfError(e, 'INVALID_CONFIG'),
  )
  // Kafka connections.max.idle.ms: 10 minutes unless set; 0 turns it off; negative is refused.
  assert.equal(loadConfig({ env: {} }).kafkaConnectionsMaxIdleMs, 600_000)
  assert.equal(loadConfig({ env: { WHARF_KAFKA_CONNECTIONS_MAX_IDLE_MS: '0' } }).kafkaConnectionsMaxIdleMs, 0)
  assert.equal(loadConfig({ env: {}, flags: { kafkaConnectionsMaxIdleMs: '5000' } }).kafkaConnectionsMaxIdleMs, 5000)
  assert.throws(
    () => loadConfig({ env: { WHARF_KAFKA_CONNECTIONS_MAX_IDLE_MS: '-1' } }),
    (e) => isWharfError(e, 'INVALID_CONFIG'),
  )
})

test('MQTT memory bounds and CONNECT deadline: WHARF_MQTT_* and flags, positive integers only', () => {
  const config = loadConfig({
    env: {
      WHARF_MQTT_QUEUED_BYTES_MAX: '1000',
      WHARF_MQTT_RETAINED_BYTES_MAX: '2000',
      WHARF_MQTT_INFLIGHT_BYTES_MAX: '4000',
    },
    flags: { mqttRetainedMessageBytesMax: '300', mqttConnectTimeoutMs: '1500' },
  })
  assert.deepEqual(
    [
      config.mqttQueuedBytesMax,
      config.mqttRetainedBytesMax,
      config.mqttRetainedMessageBytesMax,
      config.mqttConnectTimeoutMs,
    ],
    [1000, 2000, 300, 1500],
  )
  assert.equal(config.mqttInflightBytesMax, 4000)
  assert.equal(envName('mqttQueuedBytesMax'), 'WHARF_MQTT_QUEUED_BYTES_MAX')
  for (const value of ['0', '-1', 'lots'])
    assert.throws(
      () => loadConfig({ env: { WHARF_MQTT_QUEUED_BYTES_MAX: value } }),
      (error: unknown) => isWharfError(error) && error.code === 'INVALID_CONFIG',
    )
})

test("every setting has a row in the README's one configuration table", () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const start = readme.indexOf('## Configuration')
  const rows = readme
    .slice(start, readme.indexOf('\n## ', start + 1))
    .split('\n')
    .filter((line) => line.startsWith('|'))
  const missing = (Object.keys(defaultConfig) as Array<keyof WharfConfig>).filter(
    (key) => !rows.some((row) => row.includes(`\`--${flagName(key)}`)),
  )
  assert.deepEqual(missing, [], 'settings without a row (flag) in the README table')
})
