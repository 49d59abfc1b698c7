// ClusterStatus: the snapshot the daemon fills for hbctl status, hbctl nodes and cl_status.

/** heartbeat's node status words (cl_status nodestatus). */
export type NodeStatusWord = 'init' | 'up' | 'active' | 'dead' | 'ping'

/** heartbeat's link status words (cl_status hblinkstatus). */
export type LinkStatusWord = 'up' | 'dead'

export interface LinkStatus {
  /** Interface name as ha.cf's media line names it (`eth0` for `udp eth0`). */
  name: string
  status: LinkStatusWord
}

export interface NodeStatus {
  /** As ha.cf's `node` line spells it (lower case, as heartbeat keeps it). */
  name: string
  type: 'normal' | 'ping'
  status: NodeStatusWord
  /** This node is the one answering. */
  local: boolean
  /** ms since the last packet from it; null = never heard (and always null for the local node). */
  lastHeardMsAgo: number | null
  /** The deadtime it advertises in its status messages (`dt`), ms; null until heard. */
  advertisedDeadtimeMs: number | null
  /** Its generation (`hg`); null until heard. */
  generation: number | null
  /** One entry per heartbeat medium, in ha.cf order. */
  links: LinkStatus[]
  /** cl_status nodeweight (100 unless set). */
  weight: number
  /** cl_status nodesite ('' unless set). */
  site: string
}

export type GroupState = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed'

export interface GroupTransition {
  /** What happened, in words: "started", "stopped (standby)", "taken over from titanic5.etri.re.kr", "start failed: IPaddr exit 1". */
  what: string
  /** Wall-clock time, ms since the epoch. */
  atMs: number
}

export interface GroupStatus {
  /** The group's key: its first resource token exactly as haresources writes it (`10.99.0.149`), §9.1. */
  key: string
  /** The node the haresources line names (the group's home). */
  preferredNode: string
  /** Each resource as written (`IPaddr::10.99.0.149/26`, `lvs`). */
  resources: string[]
  /** The node holding it now; null when nobody does. */
  holder: string | null
  state: GroupState
  lastTransition: GroupTransition | null
  /** Why the last change happened here ("titanic5 dead", "hbctl standby", "auto_failback …"); absent when not known. */
  cause?: string
}

export interface AgentStatus {
  /** The resource name as haresources writes it (`IPaddr`, `lvs`, `httpd`). */
  name: string
  /** `built-in lvs`, the site script's path, or `NOT FOUND`. */
  runs: string
  why: string
}

export type RealServerState = 'up' | 'down' | 'unknown'

export interface RealServerStatus {
  /** The virtual service it belongs to (`10.99.0.149:80`). */
  service: string
  /** `10.99.0.146:80` */
  address: string
  state: RealServerState
  lastCheck: { atMs: number; ok: boolean; detail: string } | null
}

/** cl_status rscstatus: which resources this node holds; `transition` while that is changing. */
export type RscStatus = 'none' | 'local' | 'foreign' | 'all' | 'transition'

/** The JSON form's version (hbctl status --json): bump when a field changes meaning or goes away. */
export const CLUSTER_STATUS_SCHEMA_VERSION = 1

export interface ClusterStatus {
  /** CLUSTER_STATUS_SCHEMA_VERSION of the daemon that answered. */
  schemaVersion: number
  /** Wall-clock time of the snapshot, ms since the epoch (relative times below are taken at this instant). */
  generatedAtMs: number
  /** cl_status hbparameter -p hbversion (hbVersionString()). */
  version: string
  localNode: string
  /** Nodes in ha.cf order (cl_status lists them in reverse, as 3.0.6 does). */
  nodes: NodeStatus[]
  rscstatus: RscStatus
  /** haresources groups in file order. */
  groups: GroupStatus[]
  /** null when no LVS/monitor runs on this node. */
  realServers: RealServerStatus[] | null
  /** Which agent each haresources resource name runs here, and why (the rule hbctl check shows); absent without resources. */
  agents?: AgentStatus[]
  /**
   * What cl_status hbparameter answers, as 3.0.6 reports it: directive values as written
   * in ha.cf (`keepalive` "2", `deadtime` "5") and computed defaults in ms (`deadping`
   * "5000ms", `initdead` "12000ms", `warntime` "2500ms"), plus `hbversion`, `crm` "false",
   * `msgfmt` "classic", `realtime`, `debug`, `baud`, `udpport`, `hopfudge`, `auto_failback`,
   * `logfile`, `debugfile`, `logfacility`. A missing name = "not set".
   */
  parameters: Record<string, string>
}
