// A heartbeat-ts pair for the benches: two namespaced hosts (eth0, bcast as the seed) plus a packet
// observer, ha.cf rewritten per timer setting, nodes started, killed and waited on through their logs.

import { createKit, netnsAvailability, startObserver, type Availability, type Host, type Kit, type Line, type Observer } from '../test/netns/kit.js'
import { SEED_ADDRESS, SEED_NODENAME, authkeysFor } from '../test/netns/seed-node.js'
import { startTsNode, type TsNode } from '../test/netns/ts-node.js'

/** keepalive/deadtime exactly as written in ha.cf (ha.cf(5): a bare number is seconds). */
export interface Timers {
  keepalive: string
  deadtime: string
}

export interface PairMember {
  readonly name: string
  readonly host: Host
  /** The running daemon, undefined between a kill and the next start. */
  ts: TsNode | undefined
}

export interface TsPair {
  readonly kit: Kit
  readonly obs: Observer
  readonly members: readonly [PairMember, PairMember]
  /** Kill both daemons, write ha.cf for `timers` on both hosts, start both, wait until each sees the other active. */
  restartWith(timers: Timers, timeoutMs: number): Promise<void>
  start(m: PairMember): Promise<void>
  /** SIGKILL every process of the member's host at once, as a crash would. */
  kill(m: PairMember): Promise<void>
  /** Resolves once `viewer` logged `peer` active at or after line index `from`. */
  waitSeesActive(viewer: PairMember, peer: PairMember, from: number, timeoutMs: number): Promise<Line>
  destroy(): Promise<void>
}

const PORT = 1001

/** ha.cf of the seed (bcast on eth0, port 1001, both titanic nodes) with the bench's timers; no syslog. */
export function benchHaCf(timers: Timers): string {
  return [
    '# written by the heartbeat-ts bench',
    'logfile /var/log/ha-log',
    'debugfile /var/log/ha-debug',
    `keepalive ${timers.keepalive}`,
    `deadtime ${timers.deadtime}`,
    'hopfudge 1',
    `udpport ${PORT}`,
    'bcast eth0',
    `node ${SEED_NODENAME.titanic5}`,
    `node ${SEED_NODENAME.titanic6}`,
    '',
  ].join('\n')
}

export async function pairAvailability(): Promise<Availability> {
  return netnsAvailability()
}

/** Build the two hosts and the observer. The caller must destroy() it, also on error. */
export async function buildTsPair(prefix: string): Promise<TsPair> {
  const kit = await createKit(prefix)
  try {
    const t5 = await kit.addHost({ name: 't5', address: SEED_ADDRESS.titanic5, hostname: SEED_NODENAME.titanic5 })
    const t6 = await kit.addHost({ name: 't6', address: SEED_ADDRESS.titanic6, hostname: SEED_NODENAME.titanic6 })
    const obs = await startObserver(await kit.addHost({ name: 'obs', address: '129.254.203.150/26' }), PORT)
    const members: [PairMember, PairMember] = [
      { name: SEED_NODENAME.titanic5, host: t5, ts: undefined },
      { name: SEED_NODENAME.titanic6, host: t6, ts: undefined },
    ]
    const keys = await authkeysFor('sha1')
    for (const m of members) {
      await m.host.writeFile('etc/ha.d/authkeys', keys, 0o600)
      // No resource groups: the benches measure membership, not agents.
      await m.host.writeFile('etc/ha.d/haresources', '# no resources: membership bench\n')
    }

    const start = async (m: PairMember): Promise<void> => {
      // -d: the daemon's debug line with the ms lateness of each death.
      m.ts = await startTsNode(m.host, { debug: 1 })
    }
    const kill = async (m: PairMember): Promise<void> => {
      await m.host.killAll('SIGKILL')
      if (m.ts) await m.ts.proc.exited
      m.ts = undefined
    }
    const waitSeesActive = (viewer: PairMember, peer: PairMember, from: number, timeoutMs: number): Promise<Line> => {
      if (!viewer.ts) return Promise.reject(new Error(`${viewer.name} is not running`))
      const re = new RegExp(`Status update for node ${peer.name.replaceAll('.', '\\.')}: status active`)
      return viewer.ts.proc.waitForLine(re, timeoutMs, from)
    }
    return {
      kit,
      obs,
      members,
      start,
      kill,
      waitSeesActive,
      async restartWith(timers, timeoutMs) {
        for (const m of members) await kill(m)
        for (const m of members) await m.host.writeFile('etc/ha.d/ha.cf', benchHaCf(timers))
        for (const m of members) await start(m)
        const [a, b] = members
        await Promise.all([waitSeesActive(a, b, 0, timeoutMs), waitSeesActive(b, a, 0, timeoutMs)])
      },
      destroy: () => kit.destroy(),
    }
  } catch (err) {
    await kit.destroy()
    throw err
  }
}

/** Sorted-copy median and max of a list of numbers (NaN when empty). */
export function medianAndWorst(xs: readonly number[]): { median: number; worst: number } {
  if (xs.length === 0) return { median: Number.NaN, worst: Number.NaN }
  const s = [...xs].sort((x, y) => x - y)
  const mid = Math.floor(s.length / 2)
  const median = s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2
  return { median, worst: s[s.length - 1] ?? Number.NaN }
}
