// A heartbeat-ts pair for the benches: two namespaced hosts (eth0, bcast as the seed) plus a packet
// observer when root, else two daemons on loopback (mcast on lo, HBTS_* dirs of their own); ha.cf
// rewritten per timer setting, nodes started, killed and waited on through their logs.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { createKit, distFile, netnsAvailability, startObserver, type Line, type Proc } from '../test/netns/kit.js'
import { SEED_ADDRESS, SEED_NODENAME, authkeysFor } from '../test/netns/seed-node.js'
import { startTsNode, type TsNode } from '../test/netns/ts-node.js'
import { DAEMON_NODE_FLAGS } from '../lib/io/daemonize.js'

/** keepalive/deadtime exactly as written in ha.cf (ha.cf(5): a bare number is seconds). */
export interface Timers {
  keepalive: string
  deadtime: string
}

export interface PairMember {
  readonly name: string
  /** The running daemon, undefined between a kill and the next start. */
  ts: TsNode | undefined
}

export interface TsPair {
  /** Where the pair runs, for the bench's heading. */
  readonly where: string
  readonly members: readonly [PairMember, PairMember]
  /** Arrival (ms, wall clock) and advertised dt of the last status a packet observer heard from `src`, if there is an observer. */
  lastStatusHeard(src: string, beforeMs: number): { atMs: number; dtMs: number } | undefined
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
export function benchHaCf(timers: Timers, media = 'bcast eth0', logDir = '/var/log'): string {
  return [
    '# written by the heartbeat-ts bench',
    `logfile ${logDir}/ha-log`,
    `debugfile ${logDir}/ha-debug`,
    `keepalive ${timers.keepalive}`,
    `deadtime ${timers.deadtime}`,
    'hopfudge 1',
    `udpport ${PORT}`,
    media,
    `node ${SEED_NODENAME.titanic5}`,
    `node ${SEED_NODENAME.titanic6}`,
    '',
  ].join('\n')
}

/**
 * Namespaces when this machine can build them (preferred: the seed's media unchanged), else loopback;
 * BENCH_LOOPBACK=1 forces loopback. The caller must destroy() the pair, also on error.
 */
export async function buildTsPair(prefix: string, opts: PairOptions = {}): Promise<TsPair> {
  const debug = opts.debug ?? true
  if (process.env.BENCH_LOOPBACK === '1') return buildLoopbackPair(prefix, 'BENCH_LOOPBACK=1', debug)
  const a = await netnsAvailability()
  return a.ok ? buildNamespacePair(prefix, debug) : buildLoopbackPair(prefix, `no network namespaces: ${a.reason}`, debug)
}

export interface PairOptions {
  /**
   * `-d` (default on): the daemon's debug line with the lateness of each death, which the membership
   * bench reads. The idle bench turns it off: 3.0.6 runs without debug there.
   */
  debug?: boolean
}

async function buildNamespacePair(prefix: string, debug: boolean): Promise<TsPair> {
  const kit = await createKit(prefix)
  try {
    const t5 = await kit.addHost({ name: 't5', address: SEED_ADDRESS.titanic5, hostname: SEED_NODENAME.titanic5 })
    const t6 = await kit.addHost({ name: 't6', address: SEED_ADDRESS.titanic6, hostname: SEED_NODENAME.titanic6 })
    const obs = await startObserver(await kit.addHost({ name: 'obs', address: '129.254.203.150/26' }), PORT)
    const members: [PairMember & { host: typeof t5 }, PairMember & { host: typeof t6 }] = [
      { name: SEED_NODENAME.titanic5, host: t5, ts: undefined },
      { name: SEED_NODENAME.titanic6, host: t6, ts: undefined },
    ]
    const hostOf = (m: PairMember) => (m === members[0] ? t5 : t6)
    const keys = await authkeysFor('sha1')
    for (const m of members) {
      await m.host.writeFile('etc/ha.d/authkeys', keys, 0o600)
      // No resource groups: the benches measure membership, not agents.
      await m.host.writeFile('etc/ha.d/haresources', '# no resources: membership bench\n')
    }

    return pairOf({
      where: 'two heartbeat-ts daemons in network namespaces, bcast eth0 on a private bridge',
      members,
      // -d: the daemon's debug line with the ms lateness of each death.
      start: async (m) => (m.ts = await startTsNode(hostOf(m), { debug: debug ? 1 : 0 })),
      // Every process of the host at once, as a crash would.
      killAll: (m) => hostOf(m).killAll('SIGKILL'),
      writeHaCf: (m, timers) => hostOf(m).writeFile('etc/ha.d/ha.cf', benchHaCf(timers)),
      lastStatusHeard(src, beforeMs) {
        const h = obs.lastStatus(src, beforeMs)
        const dtMs = Number.parseInt(h?.f.dt ?? '', 16)
        return h && Number.isFinite(dtMs) ? { atMs: h.atMs, dtMs } : undefined
      },
      destroy: () => kit.destroy(),
    })
  } catch (err) {
    await kit.destroy()
    throw err
  }
}

interface PairParts {
  where: string
  members: readonly [PairMember, PairMember]
  start(m: PairMember): Promise<unknown>
  killAll(m: PairMember): Promise<unknown>
  writeHaCf(m: PairMember, timers: Timers): Promise<void>
  lastStatusHeard: TsPair['lastStatusHeard']
  destroy(): Promise<void>
}

function pairOf(p: PairParts): TsPair {
  const kill = async (m: PairMember): Promise<void> => {
    await p.killAll(m)
    if (m.ts) await m.ts.proc.exited
    m.ts = undefined
  }
  const waitSeesActive = (viewer: PairMember, peer: PairMember, from: number, timeoutMs: number): Promise<Line> => {
    if (!viewer.ts) return Promise.reject(new Error(`${viewer.name} is not running`))
    const re = new RegExp(`Status update for node ${peer.name.replaceAll('.', '\\.')}: status active`)
    return viewer.ts.proc.waitForLine(re, timeoutMs, from)
  }
  // Ctrl-C or a kill of the bench still removes namespaces and daemons.
  const onSignal = (): void => void p.destroy().finally(() => process.exit(130))
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  return {
    where: p.where,
    members: p.members,
    lastStatusHeard: p.lastStatusHeard,
    start: async (m) => {
      await p.start(m)
    },
    kill,
    waitSeesActive,
    async restartWith(timers, timeoutMs) {
      for (const m of p.members) await kill(m)
      for (const m of p.members) await p.writeHaCf(m, timers)
      for (const m of p.members) await p.start(m)
      const [a, b] = p.members
      await Promise.all([waitSeesActive(a, b, 0, timeoutMs), waitSeesActive(b, a, 0, timeoutMs)])
    },
    async destroy() {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      await p.destroy()
    },
  }
}

/** A started process's output lines, as the kit tracks them (the kit's tracker is not exported). */
function trackLines(sub: ReturnType<typeof execa>): Proc {
  const lines: Line[] = []
  const waiters: Array<{ re: RegExp; from: number; resolve: (l: Line) => void }> = []
  for (const [stream, s] of [['stdout', sub.stdout], ['stderr', sub.stderr]] as const) {
    let partial = ''
    s?.setEncoding('utf8')
    s?.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n')
      partial = parts.pop() ?? ''
      for (const text of parts) {
        const line: Line = { atMs: Date.now(), stream, text }
        lines.push(line)
        for (let i = waiters.length - 1; i >= 0; i--) {
          const w = waiters[i]
          if (w && lines.length - 1 >= w.from && w.re.test(text)) {
            waiters.splice(i, 1)
            w.resolve(line)
          }
        }
      }
    })
  }
  return {
    pid: sub.pid,
    lines,
    waitForLine(re, timeoutMs, fromIndex = 0) {
      const seen = lines.slice(fromIndex).find((l) => re.test(l.text))
      if (seen) return Promise.resolve(seen)
      return new Promise<Line>((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.indexOf(w)
          if (i >= 0) waiters.splice(i, 1)
          reject(new Error(`no line matching ${String(re)} within ${timeoutMs} ms; last lines:\n${lines.slice(-15).map((l) => `  ${l.text}`).join('\n')}`))
        }, timeoutMs)
        const w = { re, from: fromIndex, resolve: (l: Line) => (clearTimeout(timer), resolve(l)) }
        waiters.push(w)
      })
    },
    kill(signal = 'SIGTERM') {
      sub.kill(signal)
    },
    exited: sub.then(
      (r) => r.exitCode ?? null,
      () => null,
    ),
  }
}

// Loopback: our ucast skips our own address and two daemons cannot share a unicast port, but both
// can join one multicast group on lo (loop on), each with its own ha.d/state/run dirs.
const LOOP_GROUP = '239.0.0.94'

async function buildLoopbackPair(prefix: string, why: string, debug: boolean): Promise<TsPair> {
  const base = await mkdtemp(join(tmpdir(), `${prefix}-loop-`))
  const subs: Array<ReturnType<typeof execa>> = []
  const cli = await distFile('lib/cli/heartbeat.js')
  const members: [PairMember, PairMember] = [
    { name: SEED_NODENAME.titanic5, ts: undefined },
    { name: SEED_NODENAME.titanic6, ts: undefined },
  ]
  const dirOf = (m: PairMember): string => join(base, m === members[0] ? 't5' : 't6')
  const keys = await authkeysFor('sha1')
  for (const m of members) {
    for (const d of ['ha.d', 'state', 'run', 'log']) await mkdir(join(dirOf(m), d), { recursive: true })
    await writeFile(join(dirOf(m), 'ha.d', 'authkeys'), keys, { mode: 0o600 })
    await writeFile(join(dirOf(m), 'ha.d', 'haresources'), '# no resources: membership bench\n')
  }
  return pairOf({
    where: `two heartbeat-ts daemons on loopback (mcast lo ${LOOP_GROUP}; ${why})`,
    members,
    async start(m) {
      const d = dirOf(m)
      const env = {
        HBTS_NODE_NAME: m.name,
        HBTS_HA_DIR: join(d, 'ha.d'),
        HBTS_STATE_DIR: join(d, 'state'),
        HBTS_RUN_DIR: join(d, 'run'),
        HBTS_PIDFILE: join(d, 'run', 'heartbeat.pid'),
        HBTS_MON_CF: join(d, 'ha.d', 'mon.cf'),
      }
      const sub = execa(process.execPath, [...DAEMON_NODE_FLAGS, cli, '-f', ...(debug ? ['-d'] : [])], { reject: false, stdin: 'ignore', buffer: false, env })
      subs.push(sub)
      const proc = trackLines(sub)
      m.ts = { proc, waitFor: (re, t) => proc.waitForLine(re, t), text: () => proc.lines.map((l) => l.text).join('\n') }
    },
    async killAll(m) {
      m.ts?.proc.kill('SIGKILL')
    },
    writeHaCf: (m, timers) => writeFile(join(dirOf(m), 'ha.d', 'ha.cf'), benchHaCf(timers, `mcast lo ${LOOP_GROUP} ${PORT} 1 1`, join(dirOf(m), 'log'))),
    lastStatusHeard: () => undefined,
    async destroy() {
      for (const s of subs) s.kill('SIGKILL')
      await Promise.all(subs.map((s) => s.catch(() => undefined)))
      await rm(base, { recursive: true, force: true })
    },
  })
}

/** Sorted-copy median and max of a list of numbers (NaN when empty). */
export function medianAndWorst(xs: readonly number[]): { median: number; worst: number } {
  if (xs.length === 0) return { median: Number.NaN, worst: Number.NaN }
  const s = [...xs].sort((x, y) => x - y)
  const mid = Math.floor(s.length / 2)
  const median = s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2
  return { median, worst: s[s.length - 1] ?? Number.NaN }
}
