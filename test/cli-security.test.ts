// `wharf users` and `wharf acls`, and the credentials every admin verb takes (--user/--password, WHARF_USER/
// WHARF_PASSWORD, --token), as child processes against a `wharf start` child with anonymous access off.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { freePort, spawnWharf } from './fixtures/wharf-process.ts'

const cli = new URL('./fixtures/wharf-cli.ts', import.meta.url).pathname

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function run(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const env = { ...process.env, ...options.env }
    for (const key of ['WHARF_USER', 'WHARF_PASSWORD', 'WHARF_TOKEN', 'WHARF_URL'])
      if (options.env?.[key] === undefined) delete env[key]
    const proc = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env })
    let stdout = ''
    let stderr = ''
    proc.stdout.on('data', (d) => {
      stdout += d
    })
    proc.stderr.on('data', (d) => {
      stderr += d
    })
    proc.stdin.end(options.input ?? '')
    proc.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

async function startBroker(t: TestContext, args: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-cli-sec-'))
  const port = await freePort()
  const wharf = spawnWharf(['--data-dir', dir, '--http-port', String(port), '--durability', 'never', ...args])
  t.after(async () => {
    wharf.proc.kill('SIGKILL')
    await wharf.exit
    rmSync(dir, { recursive: true, force: true })
  })
  await wharf.ready
  return `http://127.0.0.1:${port}`
}

const users = JSON.stringify([{ name: 'admin', password: 'admin-pw', tags: ['administrator'] }])

test('users and acls through a broker that requires credentials', async (t) => {
  const url = await startBroker(t, ['--anonymous', 'false', '--users', users])
  const admin = { WHARF_USER: 'admin', WHARF_PASSWORD: 'admin-pw' }

  let r = await run(['users', 'list', '--url', url])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /UNAUTHORIZED: authentication required \(give --user and --password/)
  r = await run(['users', 'list', '--url', url, '--user', 'admin', '--password', 'wrong'])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /UNAUTHORIZED: invalid credentials/)
  r = await run(['users', 'list', '--url', url, '--user', 'admin'])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /--user admin needs --password or WHARF_PASSWORD/)

  // Create with the password on stdin; nothing prints it.
  r = await run(['users', 'add', 'carol', '--password-stdin', '--tags', 'management', '--url', url], {
    input: 'carol-pw-1\n',
    env: admin,
  })
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout, 'created user carol\n')
  r = await run(['users', 'add', 'dave', '--tags', 'root', '--new-password', 'x', '--url', url], { env: admin })
  assert.equal(r.code, 1)
  assert.match(r.stderr, /INVALID_ARGUMENT: unknown tag 'root'/)
  r = await run(['users', 'add', 'carol', '--url', url], { env: admin })
  assert.match(r.stderr, /USER_EXISTS/)
  r = await run(['users', 'add', 'keys', '--access-key', 'AKIDKEYS:keys-aws-secret', '--url', url], { env: admin })
  assert.equal(r.code, 0, r.stderr)

  r = await run(['users', 'list', '--url', url], { env: admin })
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(r.stdout.trim().split('\n'), [
    'admin\ttags=administrator\taccessKeys=-',
    'carol\ttags=management\taccessKeys=-',
    'keys\ttags=-\taccessKeys=AKIDKEYS',
  ])
  r = await run(['users', 'list', '--json', '--url', url], { env: admin })
  assert.doesNotMatch(r.stdout, /carol-pw-1|keys-aws-secret|scrypt/)

  // The existing admin verbs take the same credentials; management may change topology, not users.
  r = await run(['topics', 'create', 'payments', '--url', url, '--user', 'carol', '--password', 'carol-pw-1'])
  assert.equal(r.code, 0, r.stderr)
  r = await run(['users', 'list', '--url', url, '--user', 'carol', '--password', 'carol-pw-1'])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /ACCESS_REFUSED: User:carol may not do this: it needs the administrator tag/)

  // passwd: stdin, the old password stops working; an unknown user is an error, not a new account.
  r = await run(['users', 'passwd', 'carol', '--password-stdin', '--url', url], { input: 'carol-pw-2\n', env: admin })
  assert.equal(r.code, 0, r.stderr)
  assert.doesNotMatch(r.stdout + r.stderr, /carol-pw/)
  const carol = { WHARF_USER: 'carol', WHARF_PASSWORD: 'carol-pw-2' }
  assert.equal((await run(['topics', 'list', '--url', url, '--user', 'carol', '--password', 'carol-pw-1'])).code, 1)
  assert.equal((await run(['topics', 'list', '--url', url], { env: carol })).code, 0)
  r = await run(['users', 'passwd', 'nobody', '--new-password', 'x', '--url', url], { env: admin })
  assert.equal(r.code, 1)
  assert.match(r.stderr, /USER_NOT_FOUND/)
  r = await run(['users', 'passwd', 'carol', '--url', url], { env: admin })
  assert.match(r.stderr, /--password-stdin or --new-password/)

  // ACLs: a deny rule binds carol's produce; deleting it lifts it.
  r = await run(
    [
      ...['acls', 'add', '--principal', 'User:carol', '--operation', 'Write', '--permission', 'Deny'],
      ...['--resource-type', 'Topic', '--resource-name', 'payments', '--url', url],
    ],
    { env: admin },
  )
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout, 'added Deny\tUser:carol\t*\tWrite\tTopic:payments\tLiteral\n')
  r = await run(['acls', 'add', '--principal', 'User:carol', '--url', url], { env: admin })
  assert.match(r.stderr, /acls add needs --operation/)
  r = await run(['acls', 'list', '--principal', 'User:carol', '--url', url], { env: admin })
  assert.equal(r.stdout, 'Deny\tUser:carol\t*\tWrite\tTopic:payments\tLiteral\n')
  r = await run(['produce', 'payments', 'hello', '--url', url], { env: carol })
  assert.equal(r.code, 1)
  assert.match(r.stderr, /ACCESS_REFUSED: User:carol is not allowed Write on Topic 'payments'/)
  assert.equal((await run(['acls', 'delete', '--url', url], { env: admin })).code, 1, 'a filter is required')
  r = await run(['acls', 'delete', '--principal', 'User:carol', '--url', url], { env: admin })
  assert.equal(r.stdout, 'deleted Deny\tUser:carol\t*\tWrite\tTopic:payments\tLiteral\n')
  assert.equal((await run(['produce', 'payments', 'hello', '--url', url], { env: carol })).code, 0)

  // An API token made over REST works as --token and WHARF_TOKEN.
  const made = await fetch(`${url}/api/v1/users/carol/tokens`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('carol:carol-pw-2').toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ name: 'cli' }),
  })
  const { token } = (await made.json()) as { token: string }
  r = await run(['topics', 'list', '--url', url, '--token', token])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^payments\t/m)
  assert.equal((await run(['topics', 'list', '--url', url], { env: { WHARF_TOKEN: token } })).code, 0)

  r = await run(['users', 'delete', 'carol', '--url', url], { env: admin })
  assert.equal(r.stdout, 'deleted user carol\n')
  assert.equal((await run(['topics', 'list', '--url', url], { env: carol })).code, 1)
  assert.equal((await run(['topics', 'list', '--url', url, '--token', token])).code, 1, 'its tokens went with it')
})

test('zero-config loopback broker: users add works without credentials', async (t) => {
  const url = await startBroker(t, [])
  const r = await run(['users', 'add', 'first', '--new-password', 'first-pw', '--tags', 'administrator', '--url', url])
  assert.equal(r.code, 0, r.stderr)
  const list = await run(['users', 'list', '--url', url, '--user', 'first', '--password', 'first-pw'])
  assert.match(list.stdout, /^first\ttags=administrator/m)
})
