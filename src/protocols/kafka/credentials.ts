// DescribeUserScramCredentials and AlterUserScramCredentials: Kafka tooling (kafka-configs --entity-type users)
// manages the SCRAM credentials of Wharf's user store. Describe on the cluster to list, Alter to change.
import {
  credentialFromSaltedPassword,
  SCRAM_ITERATIONS_DEFAULT,
  SCRAM_ITERATIONS_MAX,
  type ScramMechanism,
} from '../../broker/security/scram.js'
import { validUserName } from '../../broker/security/users.js'
import { isWharfError } from '../../util/errors.js'
import type {
  AlterUserScramCredentialsRequest,
  AlterUserScramCredentialsResponse,
  DescribeUserScramCredentialsRequest,
  DescribeUserScramCredentialsResponse,
} from './codec/index.js'
import type { Connection } from './connection.js'
import { DENIED, errorCodeOf, KafkaError } from './errors.js'
import { CLUSTER_RESOURCE } from './metadata.js'

/** Kafka's ScramMechanism codes (UNKNOWN 0). */
const mechanismCodes: ReadonlyMap<number, ScramMechanism> = new Map([
  [1, 'SCRAM-SHA-256'],
  [2, 'SCRAM-SHA-512'],
])
const codeOf = (mechanism: ScramMechanism) => (mechanism === 'SCRAM-SHA-256' ? 1 : 2)

export function handleDescribeUserScramCredentials(
  c: Connection,
  req: DescribeUserScramCredentialsRequest,
): DescribeUserScramCredentialsResponse {
  if (!c.allows('Describe', 'Cluster', CLUSTER_RESOURCE))
    return { throttleTimeMs: 0, errorCode: KafkaError.CLUSTER_AUTHORIZATION_FAILED, errorMessage: DENIED, results: [] }
  const users = c.server.broker.security.users
  const describe = (name: string) => {
    const credentialInfos = (users.view(name)?.scram ?? []).map((s) => ({
      mechanism: codeOf(s.mechanism),
      iterations: s.iterations,
    }))
    return credentialInfos.length === 0
      ? {
          user: name,
          errorCode: KafkaError.RESOURCE_NOT_FOUND,
          errorMessage: `Attempt to describe a user credential that does not exist: ${name}`,
          credentialInfos,
        }
      : { user: name, errorCode: KafkaError.NONE, errorMessage: null, credentialInfos }
  }
  const named = (req.users ?? []).map((u) => u.name)
  // No names: every user that has a SCRAM credential.
  if (named.length === 0)
    return {
      throttleTimeMs: 0,
      errorCode: KafkaError.NONE,
      errorMessage: null,
      results: users
        .list()
        .filter((u) => u.scram.length > 0)
        .map((u) => describe(u.name)),
    }
  const counts = new Map<string, number>()
  for (const name of named) counts.set(name, (counts.get(name) ?? 0) + 1)
  const results = [...counts].map(([name, count]) =>
    count > 1
      ? {
          user: name,
          errorCode: KafkaError.DUPLICATE_RESOURCE,
          errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${name}`,
          credentialInfos: [],
        }
      : describe(name),
  )
  return { throttleTimeMs: 0, errorCode: KafkaError.NONE, errorMessage: null, results }
}

type Change =
  | { kind: 'delete'; mechanism: number }
  | { kind: 'upsert'; mechanism: number; iterations: number; salt: Buffer; saltedPassword: Buffer }

/** Why Kafka would refuse this user's changes, or undefined. */
function refusal(
  c: Connection,
  name: string,
  changes: Change[],
): { errorCode: number; errorMessage: string } | undefined {
  const unacceptable = (errorMessage: string) => ({ errorCode: KafkaError.UNACCEPTABLE_CREDENTIAL, errorMessage })
  if (name === '') return unacceptable('Username must not be empty')
  if (!validUserName(name)) return unacceptable(`Invalid user name '${name}'`)
  const seen = new Set<number>()
  for (const change of changes) {
    const mechanism = mechanismCodes.get(change.mechanism)
    if (mechanism === undefined)
      return { errorCode: KafkaError.UNSUPPORTED_SASL_MECHANISM, errorMessage: 'Unknown SCRAM mechanism' }
    if (seen.has(change.mechanism))
      return {
        errorCode: KafkaError.DUPLICATE_RESOURCE,
        errorMessage: 'A user credential cannot be altered twice in the same request',
      }
    seen.add(change.mechanism)
    if (change.kind === 'delete') {
      if (c.server.broker.security.users.get(name)?.scram[mechanism] === undefined)
        return {
          errorCode: KafkaError.RESOURCE_NOT_FOUND,
          errorMessage: 'Attempt to delete a user credential that does not exist',
        }
      continue
    }
    if (change.iterations < SCRAM_ITERATIONS_DEFAULT)
      return unacceptable(`Too few iterations: at least ${SCRAM_ITERATIONS_DEFAULT}`)
    if (change.iterations > SCRAM_ITERATIONS_MAX)
      return unacceptable(`Too many iterations: at most ${SCRAM_ITERATIONS_MAX}`)
    if (change.salt.length === 0 || change.saltedPassword.length === 0)
      return unacceptable('The salt and the salted password must not be empty')
  }
  return undefined
}

export async function handleAlterUserScramCredentials(
  c: Connection,
  req: AlterUserScramCredentialsRequest,
): Promise<AlterUserScramCredentialsResponse> {
  // One result per user named, in request order; a user's changes apply all or none.
  const byUser = new Map<string, Change[]>()
  const add = (name: string, change: Change) => {
    const list = byUser.get(name)
    if (list === undefined) byUser.set(name, [change])
    else list.push(change)
  }
  for (const d of req.deletions) add(d.name, { kind: 'delete', mechanism: d.mechanism })
  for (const u of req.upsertions)
    add(u.name, {
      kind: 'upsert',
      mechanism: u.mechanism,
      iterations: u.iterations,
      salt: u.salt,
      saltedPassword: u.saltedPassword,
    })
  const allowed = c.allows('Alter', 'Cluster', CLUSTER_RESOURCE)
  const users = c.server.broker.security.users
  const results: AlterUserScramCredentialsResponse['results'] = []
  for (const [name, changes] of byUser) {
    if (!allowed) {
      results.push({ user: name, errorCode: KafkaError.CLUSTER_AUTHORIZATION_FAILED, errorMessage: DENIED })
      continue
    }
    const refused = refusal(c, name, changes)
    if (refused !== undefined) {
      results.push({ user: name, ...refused })
      continue
    }
    try {
      for (const change of changes) {
        const mechanism = mechanismCodes.get(change.mechanism)!
        if (change.kind === 'delete') await users.deleteScramCredential(name, mechanism)
        else
          await users.setScramCredential(
            name,
            credentialFromSaltedPassword(mechanism, change.salt, change.iterations, change.saltedPassword),
          )
      }
      results.push({ user: name, errorCode: KafkaError.NONE, errorMessage: null })
    } catch (error) {
      results.push({
        user: name,
        errorCode: errorCodeOf(error),
        errorMessage: isWharfError(error) ? error.message : null,
      })
    }
  }
  return { throttleTimeMs: 0, results }
}
