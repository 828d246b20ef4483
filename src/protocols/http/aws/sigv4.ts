// AWS Signature Version 4 verification (sans-I/O), for the SQS and SNS front ends: the Authorization
// header form and the presigned query form. The canonical request is rebuilt from the request as it
// arrived (raw path, raw query, raw header lines, body bytes), as AWS documents it for services other than
// S3: the path normalized and URI-encoded once more, the query sorted and re-encoded, header values trimmed
// with inner whitespace collapsed, the payload hashed (or the x-amz-content-sha256 value, which must match
// the body unless it is UNSIGNED-PAYLOAD). Failures carry the error code and text AWS answers with.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

export const ALGORITHM = 'AWS4-HMAC-SHA256'
/** How far a request's date may be from the server clock (AWS: 15 minutes either way). */
export const CLOCK_SKEW_MS = 15 * 60_000
/** The longest X-Amz-Expires AWS accepts (7 days). */
export const PRESIGN_EXPIRES_MAX_S = 604_800
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'

export type AwsAuthErrorCode =
  | 'IncompleteSignature'
  | 'InvalidClientTokenId'
  | 'MissingAuthenticationToken'
  | 'RequestExpired'
  | 'SignatureDoesNotMatch'

/** HTTP status AWS answers each with. */
export const AWS_AUTH_STATUS: Record<AwsAuthErrorCode, number> = {
  IncompleteSignature: 403,
  InvalidClientTokenId: 403,
  MissingAuthenticationToken: 403,
  RequestExpired: 400,
  SignatureDoesNotMatch: 403,
}

export const SIGNATURE_MISMATCH_TEXT =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'
export const INVALID_TOKEN_TEXT = 'The security token included in the request is invalid.'
export const MISSING_TOKEN_TEXT = 'Request is missing Authentication Token'

export class AwsAuthError extends Error {
  constructor(
    readonly code: AwsAuthErrorCode,
    message: string,
  ) {
    super(message)
  }
  get status(): number {
    return AWS_AUTH_STATUS[this.code]
  }
}

/** A request as it arrived: what the signature covers. */
export interface SignedRequest {
  method: string
  /** Path and query exactly as sent (node's `request.url`). */
  url: string
  /** Header name/value pairs as received (node's `rawHeaders`). */
  rawHeaders: readonly string[]
  body: Buffer
}

/** What a request claims about its signature, parsed but not yet verified. */
export interface SignatureClaim {
  form: 'header' | 'query'
  accessKeyId: string
  /** The credential scope: date (YYYYMMDD), region, service, terminator. */
  scopeDate: string
  region: string
  service: string
  terminator: string
  /** The request time as signed (YYYYMMDDTHHMMSSZ). */
  amzDate: string
  signedHeaders: string[]
  signature: string
  /** X-Amz-Expires of a presigned request, in seconds. */
  expires?: number
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/

function parseAmzDate(text: string): number | undefined {
  const m = AMZ_DATE.exec(text)
  if (m === null) return undefined
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)
  return Number.isNaN(ms) ? undefined : ms
}

export function formatAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
}

/** Header values by lowercased name; repeated headers joined with ',' as SigV4 canonicalizes them. */
function headerMap(rawHeaders: readonly string[]): Map<string, string> {
  const out = new Map<string, string>()
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase()
    const value = rawHeaders[i + 1]!.trim().replace(/\s+/g, ' ')
    const previous = out.get(name)
    out.set(name, previous === undefined ? value : `${previous},${value}`)
  }
  return out
}

/** Decoded query parameters in order; `+` is not a space here (SigV4 clients percent-encode spaces). */
function queryPairs(url: string): Array<[string, string]> {
  const at = url.indexOf('?')
  if (at === -1) return []
  const out: Array<[string, string]> = []
  for (const part of url.slice(at + 1).split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const key = eq === -1 ? part : part.slice(0, eq)
    const value = eq === -1 ? '' : part.slice(eq + 1)
    out.push([decode(key), decode(value)])
  }
  return out
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** RFC 3986 encoding: everything but A-Z a-z 0-9 - _ . ~ as %XX (upper case). */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** The path without dot segments and empty segments, then each segment encoded again (non-S3 services). */
export function canonicalPath(rawPath: string): string {
  if (rawPath === '') return '/'
  const segments: string[] = []
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue
    if (segment === '..') segments.pop()
    else segments.push(segment)
  }
  const lead = rawPath.startsWith('/') ? '/' : ''
  const trail = segments.length > 0 && rawPath.endsWith('/') ? '/' : ''
  return `${lead}${segments.map(uriEncode).join('/')}${trail}`
}

export function canonicalQuery(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

function incomplete(message: string): AwsAuthError {
  return new AwsAuthError('IncompleteSignature', message)
}

/**
 * The signature a request claims, or undefined when it carries none (no SigV4 Authorization header, no
 * X-Amz-Credential). A malformed one is IncompleteSignature.
 */
export function parseSignature(request: SignedRequest): SignatureClaim | undefined {
  const headers = headerMap(request.rawHeaders)
  const authorization = headers.get('authorization')
  if (authorization?.startsWith(`${ALGORITHM} `)) {
    const fields = new Map<string, string>()
    for (const part of authorization.slice(ALGORITHM.length).split(',')) {
      const eq = part.indexOf('=')
      if (eq !== -1) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
    }
    const missing = ['Credential', 'Signature', 'SignedHeaders']
      .filter((f) => !fields.get(f))
      .map((f) => `Authorization header requires '${f}' parameter.`)
    const amzDate = headers.get('x-amz-date') ?? dateHeader(headers.get('date'))
    if (amzDate === undefined)
      missing.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if (missing.length > 0) throw incomplete(missing.join(' '))
    return claim('header', fields.get('Credential')!, amzDate!, fields.get('SignedHeaders')!, fields.get('Signature')!)
  }
  const query = new Map(queryPairs(request.url))
  const credential = query.get('X-Amz-Credential')
  if (credential === undefined) return undefined
  if (query.get('X-Amz-Algorithm') !== ALGORITHM) throw incomplete(`X-Amz-Algorithm only supports "${ALGORITHM}"`)
  const missing = ['X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Signature'].filter((f) => !query.get(f))
  if (missing.length > 0)
    throw incomplete(`AWS query-string parameters must include ${missing.map((f) => `'${f}'`).join(', ')}.`)
  const result = claim(
    'query',
    credential,
    query.get('X-Amz-Date')!,
    query.get('X-Amz-SignedHeaders')!,
    query.get('X-Amz-Signature')!,
  )
  const expires = query.get('X-Amz-Expires')
  if (expires !== undefined) {
    const seconds = /^\d{1,7}$/.test(expires) ? Number(expires) : Number.NaN
    if (!(seconds >= 1 && seconds <= PRESIGN_EXPIRES_MAX_S))
      throw incomplete(`X-Amz-Expires must be a whole number of seconds from 1 to ${PRESIGN_EXPIRES_MAX_S}.`)
    result.expires = seconds
  }
  return result
}

/** An RFC 7231 Date header in SigV4's basic ISO 8601 form. */
function dateHeader(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : formatAmzDate(ms)
}

function claim(
  form: 'header' | 'query',
  credential: string,
  amzDate: string,
  signedHeaders: string,
  signature: string,
): SignatureClaim {
  // The key id is everything before the four scope fields (ids have no '/').
  const parts = credential.split('/')
  if (parts.length !== 5 || parts.some((p) => p === ''))
    throw incomplete(
      `Credential should be scoped by a valid access key id, date, region, service and terminator, got '${credential.split('/').slice(1).join('/')}'.`,
    )
  const [accessKeyId, scopeDate, region, service, terminator] = parts as [string, string, string, string, string]
  return {
    form,
    accessKeyId,
    scopeDate,
    region,
    service,
    terminator,
    amzDate,
    signedHeaders: signedHeaders.split(';').map((h) => h.trim().toLowerCase()),
    signature: signature.toLowerCase(),
  }
}

/** kSigning = HMAC chain over date, region, service and 'aws4_request', keyed by 'AWS4' + secret. */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = createHmac('sha256', `AWS4${secret}`).update(date).digest()
  const kRegion = createHmac('sha256', kDate).update(region).digest()
  const kService = createHmac('sha256', kRegion).update(service).digest()
  return createHmac('sha256', kService).update('aws4_request').digest()
}

/** The canonical request AWS would build for this request and claim. */
export function canonicalRequest(request: SignedRequest, claim: SignatureClaim): string {
  const headers = headerMap(request.rawHeaders)
  const at = request.url.indexOf('?')
  const path = at === -1 ? request.url : request.url.slice(0, at)
  let pairs = queryPairs(request.url)
  if (claim.form === 'query') pairs = pairs.filter(([k]) => k !== 'X-Amz-Signature')
  const canonicalHeaders = claim.signedHeaders.map((name) => `${name}:${headers.get(name) ?? ''}\n`).join('')
  const query = claim.form === 'query' ? new Map(pairs) : undefined
  const payload = payloadHash(request.body, query?.get('X-Amz-Content-Sha256') ?? headers.get('x-amz-content-sha256'))
  return [
    request.method.toUpperCase(),
    canonicalPath(path),
    canonicalQuery(pairs),
    canonicalHeaders,
    claim.signedHeaders.join(';'),
    payload,
  ].join('\n')
}

/**
 * The body's hash, or UNSIGNED-PAYLOAD when the client declared that. A declared hash is not trusted: the
 * real one goes into the canonical request, so a declaration that does not match the body cannot verify.
 */
function payloadHash(body: Buffer, declared: string | undefined): string {
  if (declared === UNSIGNED_PAYLOAD) return UNSIGNED_PAYLOAD
  return sha256Hex(body)
}

export function stringToSign(claim: SignatureClaim, canonical: string): string {
  const scope = `${claim.scopeDate}/${claim.region}/${claim.service}/${claim.terminator}`
  return `${ALGORITHM}\n${claim.amzDate}\n${scope}\n${sha256Hex(canonical)}`
}

export interface VerifyOptions {
  /** The service the endpoint is (sqs, sns): the scope must name it. */
  service: string
  now: number
  /** Derives (or returns a cached) signing key for the claim's scope. */
  key: (scopeDate: string, region: string, service: string) => Buffer
}

/** Throws the AWS error for a claim that does not hold: scope, clock window, presigned expiry, signature. */
export function verifySignature(request: SignedRequest, claim: SignatureClaim, options: VerifyOptions): void {
  if (claim.service !== options.service)
    throw new AwsAuthError(
      'SignatureDoesNotMatch',
      `Credential should be scoped to correct service: '${options.service}'. `,
    )
  if (claim.terminator !== 'aws4_request')
    throw new AwsAuthError(
      'SignatureDoesNotMatch',
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${claim.terminator}'. `,
    )
  const signedAt = parseAmzDate(claim.amzDate)
  if (signedAt === undefined)
    throw incomplete(
      `Date must be in ISO-8601 'basic format'. Got '${claim.amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    )
  if (claim.scopeDate !== claim.amzDate.slice(0, 8))
    throw new AwsAuthError(
      'SignatureDoesNotMatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${claim.scopeDate}' != '${claim.amzDate.slice(0, 8)}', from '${claim.amzDate}'.`,
    )
  if (!claim.signedHeaders.includes('host'))
    throw incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
  checkTime(claim, signedAt, options.now)
  const expected = createHmac('sha256', options.key(claim.scopeDate, claim.region, claim.service))
    .update(stringToSign(claim, canonicalRequest(request, claim)))
    .digest()
  const wellFormed = /^[0-9a-f]{64}$/.test(claim.signature)
  const given = wellFormed ? Buffer.from(claim.signature, 'hex') : Buffer.alloc(expected.length)
  if (!timingSafeEqual(expected, given) || !wellFormed)
    throw new AwsAuthError('SignatureDoesNotMatch', SIGNATURE_MISMATCH_TEXT)
}

function checkTime(claim: SignatureClaim, signedAt: number, now: number): void {
  if (claim.form === 'query' && claim.expires !== undefined) {
    if (now > signedAt + claim.expires * 1000) throw new AwsAuthError('RequestExpired', 'Request has expired.')
    if (signedAt - now > CLOCK_SKEW_MS) throw notYetCurrent(claim.amzDate, now)
    return
  }
  if (now - signedAt > CLOCK_SKEW_MS)
    throw new AwsAuthError(
      'SignatureDoesNotMatch',
      `Signature expired: ${claim.amzDate} is now earlier than ${formatAmzDate(now - CLOCK_SKEW_MS)} (${formatAmzDate(now)} - 15 min.)`,
    )
  if (signedAt - now > CLOCK_SKEW_MS) throw notYetCurrent(claim.amzDate, now)
}

function notYetCurrent(amzDate: string, now: number): AwsAuthError {
  return new AwsAuthError(
    'SignatureDoesNotMatch',
    `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + CLOCK_SKEW_MS)} (${formatAmzDate(now)} + 15 min.)`,
  )
}
