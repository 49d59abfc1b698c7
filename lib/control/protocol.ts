// hbctl ↔ daemon control protocol: one JSON object per line, one response line per request line.

import type { ClusterStatus } from './cluster-status.js'

/** hb_standby / hb_takeover argument (§10.4). */
export type ResourceSet = 'all' | 'local' | 'foreign' | 'failback'

export const RESOURCE_SETS: readonly ResourceSet[] = ['all', 'local', 'foreign', 'failback']

export type ControlRequest =
  | { type: 'status' }
  /** Give resources away, as hb_standby does (t=ask_resources rsc_hold=… info=me; failback means foreign). */
  | { type: 'standby'; resources: ResourceSet }
  /** Ask for resources, as hb_takeover does (t=hb_takeover rsc_hold=…). */
  | { type: 'takeover'; resources: ResourceSet }
  /** Reread the configuration, as SIGHUP does. */
  | { type: 'reload' }
  /** The counters in Prometheus text format (hbctl metrics). */
  | { type: 'metrics' }

export type ControlErrorCode =
  /** The daemon could not parse or does not know the request. */
  | 'bad-request'
  /** The daemon understood and declined (e.g. standby under auto_failback legacy). */
  | 'refused'
  /** The daemon's handler failed. */
  | 'internal'
  // Raised by the client, never sent by the daemon:
  | 'not-running'
  | 'permission'
  | 'timeout'
  | 'protocol'

export type ControlResponse =
  | { ok: true; type: 'status'; status: ClusterStatus }
  | { ok: true; type: 'done'; message: string }
  | { ok: true; type: 'metrics'; text: string }
  | { ok: false; code: ControlErrorCode; error: string }

/** A request line may not be longer than this (a status request is ~20 bytes). */
export const MAX_REQUEST_BYTES = 4096

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string }

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function encodeLine(v: ControlRequest | ControlResponse): string {
  return `${JSON.stringify(v)}\n`
}

/** Daemon side: one line → a request, or why not. Never throws. */
export function parseControlRequest(line: string): Parsed<ControlRequest> {
  let v: unknown
  try {
    v = JSON.parse(line)
  } catch {
    return { ok: false, error: `not JSON: ${JSON.stringify(line.slice(0, 80))}` }
  }
  if (!isObject(v)) return { ok: false, error: 'a request is a JSON object' }
  switch (v.type) {
    case 'status':
    case 'reload':
    case 'metrics':
      return { ok: true, value: { type: v.type } }
    case 'standby':
    case 'takeover': {
      const r = v.resources
      if (typeof r !== 'string' || !(RESOURCE_SETS as readonly string[]).includes(r)) {
        return { ok: false, error: `${v.type}: resources must be one of ${RESOURCE_SETS.join(', ')}, not ${JSON.stringify(r)}` }
      }
      return { ok: true, value: { type: v.type, resources: r as ResourceSet } }
    }
    default:
      return { ok: false, error: `unknown request type ${JSON.stringify(v.type)}` }
  }
}

/** Client side: one line → a response, or why not. Shape is checked at the top level only. */
export function parseControlResponse(line: string): Parsed<ControlResponse> {
  let v: unknown
  try {
    v = JSON.parse(line)
  } catch {
    return { ok: false, error: `not JSON: ${JSON.stringify(line.slice(0, 80))}` }
  }
  if (!isObject(v) || typeof v.ok !== 'boolean') return { ok: false, error: 'a response is a JSON object with "ok"' }
  if (v.ok === false) {
    return typeof v.code === 'string' && typeof v.error === 'string'
      ? { ok: true, value: { ok: false, code: v.code as ControlErrorCode, error: v.error } }
      : { ok: false, error: 'an error response needs "code" and "error"' }
  }
  if (v.type === 'metrics' && typeof v.text === 'string') return { ok: true, value: { ok: true, type: 'metrics', text: v.text } }
  if (v.type === 'done' && typeof v.message === 'string') return { ok: true, value: { ok: true, type: 'done', message: v.message } }
  if (v.type === 'status' && isObject(v.status) && Array.isArray(v.status.nodes) && Array.isArray(v.status.groups)) {
    return { ok: true, value: { ok: true, type: 'status', status: v.status as unknown as ClusterStatus } }
  }
  return { ok: false, error: `unexpected response ${JSON.stringify(line.slice(0, 80))}` }
}
