// Per-API descriptor: the version range a message supports and how its headers are chosen. The generated
// table (generated/apis.ts) fills one in per API key that a broker serves.
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

export interface ApiDefinition<Req, Res> {
  apiKey: number
  name: string
  minVersion: number
  maxVersion: number
  /** First flexible version, or null when no version is flexible. */
  flexibleMinVersion: number | null
  /** Kafka marks the newest version of some APIs unstable: do not advertise it. */
  latestVersionUnstable: boolean
  /** Versions Kafka 4.0 removed (KIP-896) as [lo, hi], or null. */
  deprecatedVersions: readonly [number, number] | null
  decodeRequest(r: Reader, v: number): Req
  encodeRequest(w: Writer, m: Req, v: number): void
  decodeResponse(r: Reader, v: number): Res
  encodeResponse(w: Writer, m: Res, v: number): void
}

export interface KafkaApi<Req = unknown, Res = unknown> extends ApiDefinition<Req, Res> {
  isFlexible(v: number): boolean
  isSupported(v: number): boolean
  /** Request header v2 for flexible versions, else v1 (v0 was only ever used by ControlledShutdown v0). */
  requestHeaderVersion(v: number): number
  /** Response header v1 for flexible versions, else v0 — except ApiVersions, which is always v0 so that a
   *  client can read the error of a version the broker does not know (KIP-511). */
  responseHeaderVersion(v: number): number
}

export const apiVersionsKey = 18

export function defineApi<Req, Res>(def: ApiDefinition<Req, Res>): KafkaApi<Req, Res> {
  const flexibleMin = def.flexibleMinVersion
  const isFlexible = (v: number) => flexibleMin !== null && v >= flexibleMin
  return {
    ...def,
    isFlexible,
    isSupported: (v) => v >= def.minVersion && v <= def.maxVersion,
    requestHeaderVersion: (v) => (isFlexible(v) ? 2 : 1),
    responseHeaderVersion: (v) => (def.apiKey !== apiVersionsKey && isFlexible(v) ? 1 : 0),
  }
}
