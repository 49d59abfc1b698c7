// ClusterStatus from the daemon's cores: membership and resource snapshots, ha.cf, the monitor's state — pure.

import type { HaCf } from '../config/ha-cf.js'
import type { ResourceGroup } from '../config/haresources.js'
import type { MembershipSnapshot, NodeSnapshot } from '../cluster/membership.js'
import type { RmSnapshot, GroupSnapshot } from '../resources/rm-types.js'
import { CLUSTER_STATUS_SCHEMA_VERSION, type AgentStatus, type ClusterStatus, type GroupStatus, type NodeStatus, type NodeStatusWord, type RealServerStatus } from '../control/cluster-status.js'
import type { MonStateFile } from '../monitor/mon-state.js'
import type { PingNodeSnapshot } from '../cluster/ping-nodes.js'
import { hbVersionString } from '../control/version.js'

export interface StatusInputs {
  /** Monotonic ms, the clock the snapshots' times are on. */
  nowMs: number
  /** Wall-clock ms since the epoch at the same instant. */
  wallMs: number
  cf: HaCf
  groups: readonly ResourceGroup[]
  membership: MembershipSnapshot
  /** undefined when resources are not managed (heartbeat -M, pacemaker on). */
  resources: RmSnapshot | undefined
  /** The debug level in force now (SIGUSR1/SIGUSR2 move it). */
  debugLevel: number
  realServers: RealServerStatus[] | null
  /** Each group's cause (NodeSnapshot.groupCauses). */
  groupCauses?: Readonly<Record<string, string>>
  /** Which agent each resource name runs (prepare-life's plan), in haresources order. */
  agents?: readonly AgentStatus[]
  /** The ping nodes as their echo replies say (NodeSnapshot.pingNodes); without it every ping node is dead. */
  pingNodes?: readonly PingNodeSnapshot[]
}

const STATUS_WORDS: readonly string[] = ['init', 'up', 'active', 'dead', 'ping']

/** A peer may send any status string (heartbeat stores it as received); one we do not know still means it is talking. */
function statusWord(s: string): NodeStatusWord {
  return STATUS_WORDS.includes(s) ? (s as NodeStatusWord) : 'up'
}

function lastPacketMs(n: NodeSnapshot): number | undefined {
  let last: number | undefined
  for (const l of n.links) if (l.lastPacketMs !== undefined && (last === undefined || l.lastPacketMs > last)) last = l.lastPacketMs
  return last
}

function nodeStatus(n: NodeSnapshot, m: MembershipSnapshot, nowMs: number): NodeStatus {
  const heardAt = lastPacketMs(n)
  // "Heard" = any packet since start; before that the table holds our own defaults, not its values.
  const heard = heardAt !== undefined
  return {
    name: n.name,
    type: 'normal',
    status: statusWord(n.isSelf ? m.localStatus : n.status),
    local: n.isSelf,
    lastHeardMsAgo: n.isSelf || heardAt === undefined ? null : Math.max(0, Math.round(nowMs - heardAt)),
    advertisedDeadtimeMs: n.isSelf ? m.advertisedDeadtimeMs : heard ? n.deadtimeMs : null,
    generation: n.isSelf ? m.generation : heard ? n.generation : null,
    links: n.links.map((l) => ({ name: l.name, status: l.status })),
    weight: 100,
    site: '',
  }
}

function describe(g: GroupSnapshot): string {
  const t = g.lastTransition
  if (t === null) return ''
  const word = t.to === 'running' ? 'started' : t.to
  return t.reason === '' ? word : `${word} (${t.reason})`
}

function groupStatus(g: GroupSnapshot, mode: RmSnapshot['mode'], m: MembershipSnapshot, me: string, nowMs: number, wallMs: number): GroupStatus {
  let holder = g.holder
  let state = g.state
  if (holder === null && mode === 'legacy') {
    // Legacy peers announce no rsc_hold: a group not here is with its home node when that node is up
    // (legacy gives every node its own groups at start and back on return).
    const home = m.nodes.find((n) => !n.isSelf && n.name === g.node.toLowerCase())
    if (home !== undefined && home.status === 'active') holder = home.name
  }
  // Our own resource state says "stopped" for a group the peer runs; the cluster-wide state is the peer's.
  if (holder !== null && holder !== me && state === 'stopped') state = 'running'
  const t = g.lastTransition
  return {
    key: g.key,
    preferredNode: g.node,
    resources: [...g.resources],
    holder,
    state,
    lastTransition: t === null ? null : { what: describe(g), atMs: Math.round(wallMs - (nowMs - t.atMs)) },
  }
}

/** cl_status hbparameter: ha.cf's parameter table plus what 3.0.6 sets at run time. */
function parameters(cf: HaCf, debugLevel: number): Record<string, string> {
  const p: Record<string, string> = Object.fromEntries(cf.parameters)
  p.hbversion = hbVersionString()
  // 3.0.6 answers `crm` (pacemaker's old name) and `debug` (the level in force) though ha.cf may name neither.
  p.crm = cf.parameters.get('crm') ?? cf.parameters.get('pacemaker') ?? 'false'
  p.debug = String(debugLevel)
  return p
}

export function buildClusterStatus(i: StatusInputs): ClusterStatus {
  const m = i.membership
  const me = m.localNode
  const nodes = m.nodes.map((n) => nodeStatus(n, m, i.nowMs))
  // Ping nodes after the normal ones, as 3.0.6's node table has them (ha.cf order). A ping node's one
  // link is named after it, as 3.0.6's ping medium is.
  const seen = new Set<string>()
  for (const p of i.cf.pingNodes) {
    if (seen.has(p.name)) continue
    seen.add(p.name)
    const live = i.pingNodes?.find((x) => x.name === p.name)
    const status = live?.status ?? 'dead'
    const heardAt = live?.lastReplyMs
    nodes.push({
      name: p.name,
      type: 'ping',
      status,
      local: false,
      lastHeardMsAgo: heardAt === undefined ? null : Math.max(0, Math.round(i.nowMs - heardAt)),
      advertisedDeadtimeMs: null,
      generation: null,
      links: [{ name: p.name, status: status === 'ping' ? 'up' : 'dead' }],
      weight: 100,
      site: '',
    })
  }
  const r = i.resources
  const groups: GroupStatus[] = r
    ? r.groups.map((g) => {
        const cause = i.groupCauses?.[g.key]
        return { ...groupStatus(g, r.mode, m, me, i.nowMs, i.wallMs), ...(cause !== undefined ? { cause } : {}) }
      })
    : i.groups.map((g) => ({ key: g.key, preferredNode: g.node, resources: g.resources.map((x) => x.text), holder: null, state: 'stopped', lastTransition: null }))
  return {
    schemaVersion: CLUSTER_STATUS_SCHEMA_VERSION,
    generatedAtMs: i.wallMs,
    version: hbVersionString(),
    localNode: me,
    nodes,
    rscstatus: r ? r.rscstatus : 'none',
    groups,
    realServers: i.realServers,
    ...(i.agents !== undefined && i.agents.length > 0 ? { agents: [...i.agents] } : {}),
    parameters: parameters(i.cf, i.debugLevel),
  }
}

/** `hbctl status`'s real servers from hb-mon's state file; null when the monitor is not running. */
export function realServersFromMonState(state: MonStateFile, monitorAlive: boolean): RealServerStatus[] | null {
  if (state.stopped || !monitorAlive) return null
  return state.realServers.map((r) => {
    const svc = state.services.find((s) => s.watch === r.watch && s.service === r.service)
    const at = r.lastCheck === undefined ? Number.NaN : Date.parse(r.lastCheck)
    return {
      // mon names a check by watch/service; the virtual service lives in the alert's arguments.
      service: `${r.watch}/${r.service}`,
      address: r.host,
      state: r.state,
      lastCheck: Number.isFinite(at) ? { atMs: at, ok: r.state === 'up', detail: r.state === 'down' ? (svc?.summary ?? '') : '' } : null,
    }
  })
}
