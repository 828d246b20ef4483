// `wharf certs dev DIR`: a local certificate authority, a server certificate for this machine and client
// certificates, for trying TLS and client-certificate logins. Not for production: the CA key sits beside them.
import 'reflect-metadata'
import { webcrypto } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import * as x509 from '@peculiar/x509'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const
const DAY_MS = 86_400_000

export interface DevCertificateOptions {
  /** Host names and IP addresses the server certificate is valid for, besides localhost, 127.0.0.1, ::1. */
  hosts?: string[]
  /** Common names of client certificates to make (files NAME.pem, NAME-key.pem); default ['client']. */
  clients?: string[]
  days?: number
}

export interface DevCertificateFiles {
  ca: string
  caKey: string
  cert: string
  key: string
  clients: Record<string, { cert: string; key: string }>
}

let serial = Date.now()

function nextSerial(): string {
  serial++
  return serial.toString(16).padStart(16, '0')
}

type KeyPair = webcrypto.CryptoKeyPair

async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key))
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END PRIVATE KEY-----\n`
}

function generateKeys(): Promise<KeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as Promise<KeyPair>
}

const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+:[0-9a-fA-F:]*)$/

export async function makeDevCertificates(
  dir: string,
  options: DevCertificateOptions = {},
): Promise<DevCertificateFiles> {
  await mkdir(dir, { recursive: true })
  const notBefore = new Date(Date.now() - DAY_MS)
  const notAfter = new Date(Date.now() + (options.days ?? 825) * DAY_MS)
  const caKeys = await generateKeys()
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name: 'CN=Wharf development CA,O=Wharf',
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  })
  const issue = async (name: string, usage: string, names?: x509.JsonGeneralName[]) => {
    const keys = await generateKeys()
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([usage]),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ]
    if (names) extensions.push(new x509.SubjectAlternativeNameExtension(names))
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: nextSerial(),
      subject: name,
      issuer: ca.subject,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: ALGORITHM,
      extensions,
    })
    return { cert: cert.toString('pem'), key: await pkcs8Pem(keys.privateKey) }
  }
  const hosts = [...new Set(['localhost', '127.0.0.1', '::1', hostname(), ...(options.hosts ?? [])])]
  const server = await issue(
    'CN=localhost,O=Wharf',
    x509.ExtendedKeyUsage.serverAuth,
    hosts.map((host) => (IP.test(host) ? { type: 'ip', value: host } : { type: 'dns', value: host })),
  )
  const files: DevCertificateFiles = {
    ca: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca-key.pem'),
    cert: join(dir, 'server.pem'),
    key: join(dir, 'server-key.pem'),
    clients: {},
  }
  await writeFile(files.ca, `${ca.toString('pem')}\n`)
  await writeFile(files.caKey, await pkcs8Pem(caKeys.privateKey), { mode: 0o600 })
  await writeFile(files.cert, `${server.cert}\n`)
  await writeFile(files.key, server.key, { mode: 0o600 })
  for (const client of options.clients ?? ['client']) {
    if (!/^[A-Za-z0-9._-]+$/.test(client)) throw new Error(`client name '${client}': letters, digits, . _ - only`)
    const issued = await issue(`CN=${client},O=Wharf`, x509.ExtendedKeyUsage.clientAuth)
    const paths = { cert: join(dir, `${client}.pem`), key: join(dir, `${client}-key.pem`) }
    await writeFile(paths.cert, `${issued.cert}\n`)
    await writeFile(paths.key, issued.key, { mode: 0o600 })
    files.clients[client] = paths
  }
  return files
}
