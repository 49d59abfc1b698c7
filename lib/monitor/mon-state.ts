// The monitor's state file (read by `hbctl status`): each real server's state and last check, built and parsed purely.

import type { ServiceStatus } from './mon-scheduler.js'

export type RealServerState = 'up' | 'down' | 'unknown'

export interface MonStateService {
  watch: string
  service: string
  hosts: string[]
  status: 'untested' | 'ok' | 'fail'
  running: boolean
  consecutiveFailures: number
  /** First line of the last monitor output (the failing hosts, by convention). */
  summary: string
  /** ISO 8601 times. */
  lastCheck?: string
  lastChange?: string
}

export interface MonStateRealServer {
  host: string
  state: RealServerState
  /** Which watch/service said so (the first one that checks this host). */
  watch: string
  service: string
  lastCheck?: string
  lastChange?: string
}

export interface MonStateFile {
  version: 1
  /** The monitor process (hb-mon); a reader should check that it is alive. */
  pid: number
  monCf: string
  startedAt: string
  updatedAt: string
  /** true once hb-mon has stopped (the file is left behind for post-mortems). */
  stopped: boolean
  services: MonStateService[]
  realServers: MonStateRealServer[]
}

const iso = (unixSec: number | undefined): string | undefined => (unixSec === undefined ? undefined : new Date(unixSec * 1000).toISOString())

/** Pure: the file's content from the scheduler's status and the times the caller read. */
export function buildMonState(status: readonly ServiceStatus[], meta: { pid: number; monCf: string; startedAtSec: number; nowSec: number; stopped: boolean }): MonStateFile {
  const services: MonStateService[] = status.map((s) => {
    const out: MonStateService = {
      watch: s.watch,
      service: s.service,
      hosts: [...s.hosts],
      status: s.status,
      running: s.running,
      consecutiveFailures: s.consecutiveFailures,
      summary: s.lastSummary,
    }
    const lc = iso(s.lastCheckUnix)
    if (lc !== undefined) out.lastCheck = lc
    const ch = iso(s.lastChangeUnix)
    if (ch !== undefined) out.lastChange = ch
    return out
  })
  const reals = new Map<string, MonStateRealServer>()
  for (const s of status) {
    for (const host of s.hosts) {
      const state: RealServerState = s.status === 'untested' ? 'unknown' : s.status === 'fail' && s.failingHosts.includes(host) ? 'down' : 'up'
      const prev = reals.get(host)
      // A host checked by several services is down if any says so, unknown only if none has checked it.
      if (prev !== undefined && (prev.state === 'down' || state === 'unknown')) continue
      const r: MonStateRealServer = { host, state, watch: s.watch, service: s.service }
      const lc = iso(s.lastCheckUnix)
      if (lc !== undefined) r.lastCheck = lc
      const ch = iso(s.lastChangeUnix)
      if (ch !== undefined) r.lastChange = ch
      reals.set(host, r)
    }
  }
  return {
    version: 1,
    pid: meta.pid,
    monCf: meta.monCf,
    startedAt: iso(meta.startedAtSec) as string,
    updatedAt: iso(meta.nowSec) as string,
    stopped: meta.stopped,
    services,
    realServers: [...reals.values()],
  }
}

export type ParseMonState = { ok: true; state: MonStateFile } | { ok: false; reason: string }

/** Read the state file's text; never throws. */
export function parseMonState(text: string): ParseMonState {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` }
  }
  if (typeof v !== 'object' || v === null) return { ok: false, reason: 'not an object' }
  const o = v as Record<string, unknown>
  if (o.version !== 1) return { ok: false, reason: `unknown version ${JSON.stringify(o.version)}` }
  if (typeof o.pid !== 'number' || !Array.isArray(o.services) || !Array.isArray(o.realServers)) return { ok: false, reason: 'missing pid, services or realServers' }
  for (const r of o.realServers as unknown[]) {
    const x = r as Record<string, unknown> | null
    if (typeof x !== 'object' || x === null || typeof x.host !== 'string' || !['up', 'down', 'unknown'].includes(x.state as string)) {
      return { ok: false, reason: `bad real server entry ${JSON.stringify(r)}` }
    }
  }
  return { ok: true, state: o as unknown as MonStateFile }
}
