// The membership core's configuration: ha.cf timing and identity, validated once at construction.

export interface MembershipConfig {
  /** Our node name, lowercase as heartbeat sends it in `src`. */
  localNode: string
  /** Normal nodes in ha.cf order; must contain localNode. */
  nodes: readonly string[]
  keepaliveMs: number
  deadtimeMs: number
  warntimeMs: number
  initdeadMs: number
  hopfudge: number
  /** Ping nodes count towards `ttl` only. */
  pingNodeCount?: number
  /** ha.cf max_rexmit_delay (default 250). */
  maxRexmitDelayMs: number
  /** hb_generation, already incremented and persisted by the caller. */
  generation: number
  /** hb_uuid, 16 raw bytes. */
  uuid: Buffer
  /** Medium names (interfaces such as eth0): one link per node per name. */
  linkNames: readonly string[]
  /** Uniform [0, 1): ack triggers and retransmission delays. */
  random: () => number
  /** Uuids already known (heartbeat's host cache), so destuuid can be sent before we hear a node. */
  knownUuids?: ReadonlyMap<string, Buffer>
  /** Release-1 rule: restart ourselves 2 s after a partition heals (default true). */
  restartOnHealedPartition?: boolean
  /**
   * heartbeat-ts.conf [membership] status_copies: each status goes out this many times, copy k at
   * k*keepaliveMs/statusCopies after the original, as the same stamped packet, while loss is evident
   * (start-up, then 30 s after a sign of loss); otherwise once. Default 1 = 3.0.6.
   */
  statusCopies?: number
}

/** Programmer errors (the config reader validates user input): throw with the offending value. */
export function assertMembershipConfig(c: MembershipConfig): void {
  const bad = (what: string): never => {
    throw new Error(`MembershipConfig: ${what}`)
  }
  if (c.localNode === '' || c.localNode !== c.localNode.toLowerCase()) bad(`localNode ${JSON.stringify(c.localNode)} must be non-empty lowercase`)
  if (!c.nodes.includes(c.localNode)) bad(`nodes ${JSON.stringify(c.nodes)} must contain localNode ${JSON.stringify(c.localNode)}`)
  if (new Set(c.nodes).size !== c.nodes.length) bad(`nodes ${JSON.stringify(c.nodes)} has duplicates`)
  for (const [k, v] of [['keepaliveMs', c.keepaliveMs], ['deadtimeMs', c.deadtimeMs], ['initdeadMs', c.initdeadMs], ['maxRexmitDelayMs', c.maxRexmitDelayMs]] as const) {
    if (!Number.isFinite(v) || v <= 0) bad(`${k} must be > 0, got ${v}`)
  }
  if (!Number.isFinite(c.warntimeMs) || c.warntimeMs < 0) bad(`warntimeMs must be >= 0, got ${c.warntimeMs}`)
  if (!Number.isSafeInteger(c.generation) || c.generation <= 0) bad(`generation must be a positive integer, got ${c.generation}`)
  if (c.uuid.length !== 16) bad(`uuid must be 16 bytes, got ${c.uuid.length}`)
  if (c.linkNames.length === 0) bad('linkNames must not be empty')
  if (c.statusCopies !== undefined && (!Number.isSafeInteger(c.statusCopies) || c.statusCopies < 1)) bad(`statusCopies must be a whole number >= 1, got ${c.statusCopies}`)
}
