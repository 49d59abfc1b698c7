// ClusterStatus snapshots of the situations the cl_status transcripts were captured in (test/fixtures/vectors/cl_status).

import { CLUSTER_STATUS_SCHEMA_VERSION, type ClusterStatus, type NodeStatus } from '../../lib/control/cluster-status.js'
import { hbVersionString } from '../../lib/control/version.js'

export const T5 = 'titanic5.etri.re.kr'
export const T6 = 'titanic6.etri.re.kr'
/** What the real daemon reports as its version; heartbeat-ts reports hbVersionString() instead. */
export const REAL_HBVERSION = '3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)'

export interface Scenario {
  local: string
  t5: 'active' | 'dead'
  rscstatus: ClusterStatus['rscstatus']
  autoFailback: string
  fast: boolean
}

/** Which situation each transcript was captured in (vectors README, "cl_status output"). */
export const SCENARIOS: Record<string, Scenario> = {
  'seed-legacy-titanic5.txt': { local: T5, t5: 'active', rscstatus: 'none', autoFailback: 'legacy', fast: false },
  'seed-legacy-titanic6.txt': { local: T6, t5: 'active', rscstatus: 'none', autoFailback: 'legacy', fast: false },
  'afb-on-titanic5.txt': { local: T5, t5: 'active', rscstatus: 'local', autoFailback: 'on', fast: false },
  'afb-on-titanic6.txt': { local: T6, t5: 'active', rscstatus: 'local', autoFailback: 'on', fast: false },
  'afb-on-titanic6-after-titanic5-crash.txt': { local: T6, t5: 'dead', rscstatus: 'all', autoFailback: 'on', fast: false },
  'fast-legacy-titanic5.txt': { local: T5, t5: 'active', rscstatus: 'none', autoFailback: 'legacy', fast: true },
}

function node(name: string, status: 'active' | 'dead', local: boolean, deadtimeMs: number): NodeStatus {
  return {
    name,
    type: 'normal',
    status,
    local,
    lastHeardMsAgo: local ? null : status === 'dead' ? 9_100 : 420,
    advertisedDeadtimeMs: local ? deadtimeMs : deadtimeMs,
    generation: name === T5 ? 3 : 7,
    links: [{ name: 'eth0', status: status === 'dead' ? 'dead' : 'up' }],
    weight: 100,
    site: '',
  }
}

/** The snapshot a daemon in that situation would hand out. 2024-11-25 17:40:00 UTC. */
export function statusFor(sc: Scenario): ClusterStatus {
  const now = Date.UTC(2024, 10, 25, 17, 40, 0)
  const dt = sc.fast ? 1000 : 5000
  const t5Holds = sc.t5 === 'active'
  return {
    schemaVersion: CLUSTER_STATUS_SCHEMA_VERSION,
    generatedAtMs: now,
    version: hbVersionString(),
    localNode: sc.local,
    // ha.cf order: titanic5 then titanic6
    nodes: [node(T5, sc.t5, sc.local === T5, dt), node(T6, 'active', sc.local === T6, dt)],
    rscstatus: sc.rscstatus,
    groups: [
      {
        key: '10.99.0.149',
        preferredNode: T5,
        resources: ['10.99.0.149', 'lvs'],
        holder: t5Holds ? T5 : T6,
        state: 'running',
        lastTransition: t5Holds
          ? { what: 'started', atMs: now - 185_000 }
          : { what: `taken over from ${T5}`, atMs: now - 4_000 },
      },
    ],
    realServers: [
      { service: '10.99.0.149:80', address: '10.99.0.6:80', state: 'up', lastCheck: { atMs: now - 2_000, ok: true, detail: '' } },
      { service: '10.99.0.149:80', address: '10.99.0.7:80', state: 'down', lastCheck: { atMs: now - 1_000, ok: false, detail: 'connect ECONNREFUSED' } },
    ],
    parameters: {
      keepalive: sc.fast ? '200ms' : '2',
      deadtime: sc.fast ? '1' : '5',
      deadping: sc.fast ? '1000ms' : '5000ms',
      initdead: sc.fast ? '1' : '12000ms',
      warntime: sc.fast ? '500ms' : '2500ms',
      udpport: '1001',
      hopfudge: '1',
      auto_failback: sc.autoFailback,
      baud: '19200',
      debug: '0',
      debugfile: '/var/log/ha-debug',
      logfile: '/var/log/ha-log',
      logfacility: 'local0',
      hbversion: hbVersionString(),
      crm: 'false',
      msgfmt: 'classic',
      realtime: 'true',
    },
  }
}

export interface TranscriptEntry {
  args: string[]
  /** stdout and stderr as captured, in order. */
  output: string
  exitCode: number
}

/** `$ cl_status <args>` / output / `[exit N]` blocks. */
export function parseTranscript(text: string): TranscriptEntry[] {
  const out: TranscriptEntry[] = []
  const re = /^\$ cl_status ([^\n]*)\n([\s\S]*?)^\[exit (\d+)\]$/gm
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out.push({ args: (m[1] ?? '').split(' ').filter((a) => a !== ''), output: m[2] ?? '', exitCode: Number(m[3]) })
  }
  return out
}

/** cl_log's line prefix (date, host, pid) differs run to run. */
export function normaliseLog(text: string): string {
  return text.replace(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ cl_status: \[\d+\]: /gm, '<log> ')
}
