// Shared by the SQS and SNS security tests: an HTTP listener over a broker with users that hold access keys
// and ACL rules, SDK v3 clients signing with given keys, and runners for boto3 (/usr/bin/python3) and the
// `aws` CLI (v1 or v2; CI installs Debian's awscli; where it is absent `awsCli()` is undefined and those tests skip).
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { SNSClient } from '@aws-sdk/client-sns'
import { SQSClient } from '@aws-sdk/client-sqs'
import type { Broker } from '../../../src/index.ts'
import { startHttpListener } from '../../../src/protocols/http/listener.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { createTestBroker } from '../../fixtures/test-storage.ts'

export const ALICE = { accessKeyId: 'AKIDALICE', secretAccessKey: 'alice-aws-secret' }
export const BOB = { accessKeyId: 'AKIDBOB', secretAccessKey: 'bob-aws-secret' }
/** A key id no user holds, as local tools invent (the existing tests sign with `test`/`test`). */
export const STRANGER = { accessKeyId: 'AKIDNOBODY', secretAccessKey: 'whatever-secret' }

export const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'
export const INVALID_TOKEN = 'The security token included in the request is invalid.'

export interface Secured {
  broker: Broker
  url: string
}

/**
 * alice and bob (no tags: ACLs apply to them) with access keys; bob may not write the `payments` queue nor
 * publish to the `alerts` SNS topic. Anonymous access stays on unless `anonymous: false`.
 */
export async function startSecured(t: TestContext, options: { anonymous?: boolean } = {}): Promise<Secured> {
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-aws-sec-'))
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const broker = await createTestBroker({
    dataDir,
    durability: 'never',
    security: {
      users: [
        { name: 'alice', password: 'alice-pw', accessKeys: [{ id: ALICE.accessKeyId, secret: ALICE.secretAccessKey }] },
        { name: 'bob', password: 'bob-pw', accessKeys: [{ id: BOB.accessKeyId, secret: BOB.secretAccessKey }] },
      ],
      acls: [
        {
          principal: 'User:bob',
          operation: 'Write',
          permission: 'Deny',
          resourceType: 'Topic',
          resourceName: 'payments',
        },
        {
          principal: 'User:bob',
          operation: 'Write',
          permission: 'Deny',
          resourceType: 'Exchange',
          resourceName: 'alerts',
        },
      ],
    },
  })
  if (options.anonymous === false) broker.security.configure({ anonymous: false })
  const listener = await startHttpListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
  t.after(async () => {
    await listener.close()
    await broker.close()
  })
  return { broker, url: `http://127.0.0.1:${listener.port}` }
}

type Keys = { accessKeyId: string; secretAccessKey: string }

export function sqsAs(t: TestContext, url: string, credentials: Keys, extra: { systemClockOffset?: number } = {}) {
  const client = new SQSClient({ endpoint: url, region: 'eu-west-1', credentials, maxAttempts: 1, ...extra })
  t.after(() => client.destroy())
  return client
}

export function snsAs(t: TestContext, url: string, credentials: Keys) {
  const client = new SNSClient({ endpoint: url, region: 'eu-west-1', credentials, maxAttempts: 1 })
  t.after(() => client.destroy())
  return client
}

interface AwsError extends Error {
  Code?: string
  $metadata?: { httpStatusCode?: number }
}

/** Asserts an SDK v3 rejection: the error name, its query code (err.Code), HTTP status and, if given, message. */
export async function rejectsWith(
  promise: Promise<unknown>,
  expected: { name: string; code?: string; status: number; message?: string | RegExp },
): Promise<void> {
  await assert.rejects(promise, (error: AwsError) => {
    assert.equal(error.name, expected.name, `${error.name}: ${error.message}`)
    if (expected.code !== undefined) assert.equal(error.Code, expected.code)
    assert.equal(error.$metadata?.httpStatusCode, expected.status)
    if (typeof expected.message === 'string') assert.equal(error.message, expected.message)
    else if (expected.message !== undefined) assert.match(error.message, expected.message)
    return true
  })
}

const PRELUDE = `
import sys, json
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
URL = sys.argv[1]
def client(service, key, secret):
    return boto3.client(service, endpoint_url=URL, region_name='us-west-2', aws_access_key_id=key,
                        aws_secret_access_key=secret, config=Config(retries={'max_attempts': 1}))
out = {}
def err(fn, **kw):
    try:
        fn(**kw)
        return None
    except ClientError as e:
        return {'code': e.response['Error']['Code'], 'status': e.response['ResponseMetadata']['HTTPStatusCode'],
                'message': e.response['Error'].get('Message')}
`

// biome-ignore lint/suspicious/noExplicitAny: the Python client's replies are asserted field by field
export type Py = Record<string, any>

/** Runs a boto3 script (PRELUDE + body, which fills `out`) against `url` and returns `out`. */
export async function boto(url: string, body: string): Promise<Py> {
  const script = `${PRELUDE}\n${body}\nprint(json.dumps(out, default=str))\n`
  const { code, stdout, stderr } = await run('/usr/bin/python3', ['-c', script, url], {})
  assert.equal(code, 0, `python failed: ${stderr}`)
  return JSON.parse(stdout) as Py
}

export function run(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** The `aws` CLI when installed and working. */
export function awsCli(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v aws'], { encoding: 'utf8' })
  const path = found.stdout.trim()
  if (found.status !== 0 || path === '') return undefined
  return spawnSync(path, ['--version'], { encoding: 'utf8' }).status === 0 ? path : undefined
}

/** Runs the CLI with only the given keys (no profile or config file from the machine). */
export function cli(path: string, url: string, keys: Keys, args: string[]) {
  return run(path, ['--endpoint-url', url, '--output', 'json', ...args], {
    AWS_ACCESS_KEY_ID: keys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_MAX_ATTEMPTS: '1',
    AWS_PAGER: '',
  })
}
