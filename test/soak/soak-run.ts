// The randomized fault run (issue 11, point 4): random crashes, reboots, stops, standby/takeover, hb_standby
// through the FIFO, SIGHUP reloads (valid and broken ha.cf), loss bursts, one-way loss, healed partitions and
// real servers failing, on the seed cluster in namespaces; after every action an invariant checker fed by what
// the hosts show (VIP addresses per namespace, the client's ARP entry and HTTP answers). Same seed, same actions.

import { readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { distFile, REAL_HEARTBEAT, repoRoot, waitFor, type Host, type Proc } from '../netns/kit.js'
import type { SeedNode } from '../netns/seed-node.js'
import { buildSeedCluster, DIRECTORS, VIP, type Impl, type SeedCluster } from '../cluster-e2e/seed-cluster.js'
import { hbctl } from '../cluster-e2e/scenario-helpers.js'
import { seededRandom } from '../support/seeded-random.js'

export type PairKind = 'ts' | 'mixed'

export interface SoakOptions {
  pair: PairKind
  seed: number
  durationMs: number
  /** Kit prefix (2-11 lowercase letters/digits). */
  prefix: string
  /** Progress lines (the action log as it happens). */
  note?: (text: string) => void
  /** Hard cap on actions, whatever the duration. */
  maxActions?: number
  /** Loss bursts, one-way loss and healing partitions among the actions (default true). */
  networkFaults?: boolean
}

export interface ActionRecord {
  index: number
  atMs: number
  name: string
  /** Longest client outage (ms without an HTTP answer) from this action to the next. */
  outageMs: number
}

export interface SoakResult {
  pair: PairKind
  seed: number
  impl: Record<SeedNode, Impl>
  actions: ActionRecord[]
  violations: string[]
  /** Daemon log lines that are not in the log format, or stack traces. */
  badLogLines: string[]
  /** The directors' last log lines when something was violated. */
  logTails: string[]
}

/**
 * Timers per pair. The mixed pair runs at the seed's deadtime (5 s): 3.0.6 takes a group over, and gives it up
 * when a partition heals (its restart), through ResourceManager and the shell IPaddr, which took 1-5 s on this
 * shared 2-core machine; a shorter deadtime charges 3.0.6's own script time to the invariants.
 */
const TIMERS: Record<PairKind, { keepalive: string; deadtimeMs: number; initdeadS: number }> = {
  ts: { keepalive: '500ms', deadtimeMs: 2000, initdeadS: 6 },
  mixed: { keepalive: '1', deadtimeMs: 5000, initdeadS: 10 },
}
const AGENT_TIMEOUT_MS = 5000
const HANG_FLAG = 'run/soak-ipvsadm-hang'
const SAMPLE_EVERY_MS = 100
const ARP_LIMIT_MS = 1000
/** Wall-clock bound on one action's own steps (stop, start, reload). */
const STEP_TIMEOUT_MS = 40_000
/** mon.cf: interval 5s; a refused connection fails at once, so interval + a 10 s margin for the alert. */
const MON_LIMIT_MS = 15_000
/** mon.cf's randstart 30s: a holder's first checks may come that late, so the LVS check wants a holder this old. */
const LVS_STABLE_HOLDER_MS = 35_000

const other = (s: SeedNode): SeedNode => (s === 'titanic5' ? 'titanic6' : 'titanic5')

function haCfFor(seedText: string, pair: PairKind): string {
  const { keepalive, deadtimeMs, initdeadS } = TIMERS[pair]
  return (
    seedText.replace(/^keepalive\s+\S+/m, `keepalive ${keepalive}`).replace(/^deadtime\s+\S+/m, `deadtime ${deadtimeMs / 1000}`) +
    `initdead ${initdeadS}\nauto_failback on\n`
  )
}

interface NsProc {
  pid: number
  comm: string
  cmdline: string
}

/** Processes whose network namespace is the host's (pgrep would see every namespace's). */
async function nsProcs(host: Host): Promise<NsProc[]> {
  const r = await execa('ip', ['netns', 'pids', host.ns], { reject: false, timeout: 10_000 })
  const out: NsProc[] = []
  for (const s of String(r.stdout ?? '').split('\n')) {
    const pid = Number.parseInt(s, 10)
    if (!(pid > 0)) continue
    try {
      const comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim()
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ').trim()
      out.push({ pid, comm, cmdline })
    } catch {
      // gone meanwhile
    }
  }
  return out
}

/** The node's cluster processes: its daemon, hb-mon, agents; not the kit's holder nor the httpd. */
function clusterProcs(ps: NsProc[]): NsProc[] {
  return ps.filter((p) => !/node-holder|http-name-server/.test(p.cmdline) && /heartbeat|hb-mon|ipvsadm|IPaddr|resource\.d|harc|ResourceManager/.test(p.cmdline))
}

/**
 * heartbeat's ha-log line, in either of 3.0.6's forms: `name[pid]: YYYY/MM/DD_HH:MM:SS level: text`, or with a
 * logfacility set (the seed's) `Mon DD HH:MM:SS host name: [pid]: level: text`.
 */
const LEVEL = '(debug|info|notice|WARN|warn|ERROR|error|CRIT|crit|EMERG|emerg|ALERT|alert)'
const LOG_LINE = new RegExp(
  `^(?:[\\w.()-]+\\[\\d+\\]: \\d{4}/\\d\\d/\\d\\d_\\d\\d:\\d\\d:\\d\\d ${LEVEL}: |\\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d \\S+ [\\w.()-]+: \\[\\d+\\]: ${LEVEL}: )`,
)
const STACK = /^\s+at .+\(.*:\d+:\d+\)$|^\s+at [\w./-]+:\d+:\d+$|Uncaught|TypeError|ReferenceError|RangeError/

interface Sample {
  atMs: number
  owners: SeedNode[]
  neighMac: string | undefined
}

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const note = opts.note ?? (() => undefined)
  const { keepalive: KEEPALIVE, deadtimeMs: DEADTIME_MS } = TIMERS[opts.pair]
  /** After a start from nobody up, the first holder may take initdead + the start-up arbitration. */
  const COLD_START_LIMIT_MS = TIMERS[opts.pair].initdeadS * 1000 + DEADTIME_MS + 8000
  const rnd = seededRandom(opts.seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T
  const between = (lo: number, hi: number): number => Math.round(lo + rnd() * (hi - lo))
  // The mixed pair: which director runs 3.0.6 comes from the seed too.
  const realSeed: SeedNode = rnd() < 0.5 ? 'titanic5' : 'titanic6'
  const impl: Record<SeedNode, Impl> =
    opts.pair === 'ts' ? { titanic5: 'ts', titanic6: 'ts' } : { [realSeed]: 'real', [other(realSeed)]: 'ts' } as Record<SeedNode, Impl>
  const violations: string[] = []
  const actions: ActionRecord[] = []
  const badLogLines: string[] = []
  const logTails: string[] = []
  /** When each violation began (its `since`, else when it was seen): the log window printed with it. */
  const violationWindows: Array<{ fromMs: number; toMs: number }> = []
  const violate = (text: string, sinceMs?: number): void => {
    const line = `[seed ${opts.seed} ${opts.pair}] ${text}`
    violationWindows.push({ fromMs: sinceMs ?? Date.now(), toMs: Date.now() })
    violations.push(line)
    note(`VIOLATION ${line}`)
  }

  const c: SeedCluster = await buildSeedCluster({
    prefix: opts.prefix,
    impl,
    haCf: (_n, text) => haCfFor(text, opts.pair),
    env: {
      OCF_RESKEY_lvs_support: 'true',
      // The soak's ipvsadm: the stand-in, hanging while the node's /run/soak-ipvsadm-hang exists.
      HBTS_IPVSADM: join(repoRoot, 'test', 'soak', 'bin', 'ipvsadm'),
      PATH: `${join(repoRoot, 'test', 'soak', 'bin')}:${join(repoRoot, 'test', 'bin')}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`,
    },
    // A hung agent is cut off after 5 s instead of 60 s (heartbeat-ts.conf [agents] timeout_ms).
    settings: `[agents]\ntimeout_ms = ${AGENT_TIMEOUT_MS}\n`,
  })
  const validHaCf: Record<SeedNode, string> = {
    titanic5: (await c.directors.titanic5.host.readFile('etc/ha.d/ha.cf')).toString('latin1'),
    titanic6: (await c.directors.titanic6.host.readFile('etc/ha.d/ha.cf')).toString('latin1'),
  }
  const httpServer = await distFile('lib/demo/http-name-server.js')
  let prober: Proc | undefined
  let sampling = true
  let samplerDone: Promise<void> = Promise.resolve()
  try {
    // What we made happen: a node is "up" when its daemon should be running and its cable is in.
    const up: Record<SeedNode, boolean> = { titanic5: false, titanic6: false }
    // A crashed node's namespace keeps its addresses, but with its cable out nobody can reach them: not a holder.
    const crashed: Record<SeedNode, boolean> = { titanic5: false, titanic6: false }
    // Exemptions: network faults (both may hold), and the window after a start from nobody up.
    let netFaultUntilMs = 0
    let healedAtMs = 0
    let coldStartAtMs = 0
    let realServerDown: Host | undefined
    // A generation advertises 3.0.6's start-up margin (dt = deadtime + 2 s) for its first 5 s, and the
    // peer holds a crash then to it, by the protocol (a reload of ours has none). The crash action asks a
    // node of ours what the victim advertises; when none can say, no margin is granted.
    const STARTUP_MARGIN_MS = 2000
    // When the only node up is the real 3.0.6, a takeover is 3.0.6's own: its dead-node check runs every
    // 250 ms and the takeover goes through harc, mach_down and ResourceManager's shell scripts. A 3.0.6
    // pair measured 4,876 / 6,059 ms (median / worst) from a crash to the client served at deadtime 5 s
    // (npm run bench -- compare), and the mixed soaks saw 6,032-6,108 ms: beyond deadtime + 1 s, by 3.0.6.
    const REAL_TAKER_MARGIN_MS = 1500
    let noneLimitExtraUntilMs = 0
    /** The deadtime `seed` advertises now, as a heartbeat-ts node sees it (undefined when none of ours can say). */
    const advertisedDeadtime = async (seed: SeedNode): Promise<number | undefined> => {
      const asker = c.directors[seed].impl === 'ts' ? seed : DIRECTORS.find((x) => x !== seed && up[x] && c.directors[x].impl === 'ts')
      if (asker === undefined) return undefined
      const cli = join(repoRoot, 'dist', 'lib', 'cli', 'hbctl.js')
      const r = await c.directors[asker].host.exec([process.execPath, cli, 'status', '--json'], { env: c.envFor(asker), timeoutMs: 5000 }).catch(() => undefined)
      if (r === undefined || r.exitCode !== 0) return undefined
      try {
        const st = JSON.parse(r.stdout) as { nodes?: Array<{ name: string; advertisedDeadtimeMs: number | null }> }
        return st.nodes?.find((x) => x.name.toLowerCase().split('.')[0] === seed)?.advertisedDeadtimeMs ?? undefined
      } catch {
        return undefined
      }
    }

    const startNode = async (seed: SeedNode): Promise<void> => {
      const wasNobodyUp = !up.titanic5 && !up.titanic6
      await c.start(seed)
      up[seed] = true
      if (wasNobodyUp) coldStartAtMs = Date.now()
    }
    const stopNode = async (seed: SeedNode): Promise<void> => {
      const d = c.directors[seed]
      up[seed] = false
      if (d.impl === 'ts') await c.stop(seed, STEP_TIMEOUT_MS)
      else {
        await d.host.exec([REAL_HEARTBEAT, '-k'], { env: c.envFor(seed), timeoutMs: STEP_TIMEOUT_MS })
        await waitFor(`${seed}: heartbeat 3.0.6 gone`, async () => ((await nsProcs(d.host)).some((p) => p.comm === 'heartbeat') ? undefined : true), STEP_TIMEOUT_MS, 200)
      }
      // No leftover process, address or table entry after a node stops.
      const left = clusterProcs(await nsProcs(d.host))
      if (left.length > 0) violate(`${seed} (${d.impl}) stopped but left processes: ${left.map((p) => `${p.pid} ${p.cmdline}`).join('; ')}`)
      const labels = (await c.vipLabels(seed)).filter((l) => !l.startsWith('lo'))
      if (labels.length > 0) violate(`${seed} (${d.impl}) stopped but still has ${VIP} on ${labels.join(', ')}`)
      const table = await c.ipvsSave(seed).catch((e: Error) => `(ipvsadm failed: ${e.message})`)
      if (table.trim() !== '') violate(`${seed} (${d.impl}) stopped but its LVS table is not empty: ${table.trim().split('\n').length} lines`)
    }
    const daemonAlive = async (seed: SeedNode): Promise<boolean> => {
      const d = c.directors[seed]
      return (await nsProcs(d.host)).some((p) => (d.impl === 'ts' ? /dist\/lib\/cli\/heartbeat\.js/.test(p.cmdline) : p.comm === 'heartbeat'))
    }
    const daemonGoneFor = async (seed: SeedNode, graceMs: number): Promise<boolean> => {
      const untilMs = Date.now() + graceMs
      for (;;) {
        if (await daemonAlive(seed)) return false
        if (Date.now() >= untilMs) return true
        await new Promise((r) => setTimeout(r, 1000))
      }
    }

    // --- the sampler: owners and the client's ARP entry every 100 ms, judged as it goes ---
    const samples: Sample[] = []
    let dualSinceMs: number | undefined
    let noneSinceMs: number | undefined
    let reportedDual = false
    let reportedNone = false
    let arpDue: { survivor: SeedNode; byMs: number; fromMs: number; late?: boolean } | undefined
    let holder: { seed: SeedNode; sinceMs: number } | undefined
    const sampleOnce = async (): Promise<void> => {
      const now = Date.now()
      const allOwners = await c.owners()
      const owners = allOwners.filter((s) => !crashed[s])
      // A dual hold that ends by a crash: the survivor learns of it only after deadtime, then re-announces.
      const endedByCrash = allOwners.length > owners.length
      const neighMac = await c.clientNeighMac()
      samples.push({ atMs: now, owners, neighMac })
      if (owners.length === 1) {
        if (holder?.seed !== owners[0]) holder = { seed: owners[0] as SeedNode, sinceMs: now }
      } else holder = undefined
      if (samples.length > 20_000) samples.splice(0, samples.length - 20_000)
      const inNetFault = now < netFaultUntilMs
      // Two holders.
      if (owners.length === 2) {
        dualSinceMs ??= now
        const from = Math.max(dualSinceMs, inNetFault ? now : netFaultUntilMs)
        const limit = healedAtMs > 0 && dualSinceMs <= healedAtMs + DEADTIME_MS + 2000 ? DEADTIME_MS + 2000 : DEADTIME_MS + 1000
        if (!inNetFault && !reportedDual && now - from > limit) {
          reportedDual = true
          violate(`two holders of ${VIP} for ${now - from} ms (limit ${limit} ms) since ${new Date(from).toISOString()}`, from)
        }
      } else {
        if (dualSinceMs !== undefined && reportedDual) note(`  the dual hold ended after ${now - dualSinceMs} ms (owners now: ${owners.join(', ') || 'none'})`)
        if (dualSinceMs !== undefined && owners.length === 1) {
          const survivor = owners[0] as SeedNode
          arpDue = { survivor, fromMs: now, byMs: now + (endedByCrash ? DEADTIME_MS : 0) + ARP_LIMIT_MS + SAMPLE_EVERY_MS }
        }
        dualSinceMs = undefined
        reportedDual = false
      }
      // No holder while a node is up.
      const someUp = up.titanic5 || up.titanic6
      if (owners.length === 0 && someUp) {
        noneSinceMs ??= now
        const inColdStart = now - coldStartAtMs < COLD_START_LIMIT_MS
        const from = Math.max(noneSinceMs, netFaultUntilMs)
        const onlyRealUp = DIRECTORS.every((x) => !up[x] || c.directors[x].impl === 'real')
        const limit = DEADTIME_MS + 1000 + (noneSinceMs <= noneLimitExtraUntilMs ? STARTUP_MARGIN_MS : 0) + (onlyRealUp ? REAL_TAKER_MARGIN_MS : 0)
        if (!inColdStart && !inNetFault && !reportedNone && now - from > limit) {
          reportedNone = true
          violate(`no holder of ${VIP} for ${now - noneSinceMs} ms (limit ${limit} ms) while ${DIRECTORS.filter((s) => up[s]).join(' and ')} up`, noneSinceMs)
        }
      } else {
        noneSinceMs = undefined
        reportedNone = false
      }
      // The client's ARP entry follows the survivor of a dual hold.
      if (arpDue !== undefined) {
        const mac = c.directors[arpDue.survivor].mac
        if (neighMac === mac) {
          if (arpDue.late === true) note(`  the client's ARP entry named ${arpDue.survivor} ${now - arpDue.fromMs} ms after the dual hold ended`)
          arpDue = undefined
        } else if (owners.length !== 1 || owners[0] !== arpDue.survivor) arpDue = undefined
        else if (now > arpDue.byMs && arpDue.late !== true) {
          const other = DIRECTORS.find((s) => c.directors[s].mac === neighMac)
          violate(`two holders resolved to ${arpDue.survivor} at ${new Date(arpDue.fromMs).toISOString()} but the client's ARP entry still names ${other ?? neighMac ?? 'nothing'} after ${now - arpDue.fromMs} ms`)
          arpDue.late = true
        }
      }
    }
    const sampler = async (): Promise<void> => {
      while (sampling) {
        const t0 = Date.now()
        try {
          await sampleOnce()
        } catch (e) {
          note(`sampler: ${(e as Error).message}`)
        }
        await new Promise((r) => setTimeout(r, Math.max(0, SAMPLE_EVERY_MS - (Date.now() - t0))))
      }
    }

    // --- start ---
    note(`pair ${opts.pair}: titanic5 ${impl.titanic5}, titanic6 ${impl.titanic6}; seed ${opts.seed}; keepalive ${KEEPALIVE}, deadtime ${DEADTIME_MS} ms`)
    await startNode('titanic5')
    await startNode('titanic6')
    await waitFor('a first holder', async () => ((await c.owners()).length === 1 ? true : undefined), COLD_START_LIMIT_MS + 30_000, 200)
    prober = await c.startProber(20, 200)
    samplerDone = sampler()

    const settled = async (): Promise<void> => {
      // heartbeat ignores standby/takeover while the other side is in flux, and an admin does not stop the
      // holder while its peer is still restarting (3.0.6 restarts itself for ~10 s after a partition heals):
      // wait as an admin would, asking each node's own cl_status.
      await waitFor('both nodes settled', async () => {
        for (const seed of DIRECTORS) {
          if (!up[seed]) continue
          const d = c.directors[seed]
          const r = d.impl === 'ts' ? await hbctl(c, seed, 'cl_status', 'rscstatus') : await d.host.clStatus(['rscstatus']).then((x) => ({ exitCode: x.exitCode, out: x.stdout.trim() }))
          if (r.exitCode !== 0 || r.out === 'transition') return undefined
        }
        return true
      }, 30_000, 300).catch(() => undefined)
    }
    const fifoStandby = async (seed: SeedNode, verb: 'hb_standby' | 'hb_takeover'): Promise<string> => {
      const d = c.directors[seed]
      const r = await d.host.exec([`/usr/share/heartbeat/${verb}`], { env: c.envFor(seed), timeoutMs: 20_000 })
      return `exit ${r.exitCode}`
    }
    const sighup = async (seed: SeedNode): Promise<void> => {
      for (const p of await nsProcs(c.directors[seed].host)) {
        const isDaemon = c.directors[seed].impl === 'ts' ? /dist\/lib\/cli\/heartbeat\.js/.test(p.cmdline) : p.comm === 'heartbeat' && /master control/.test(p.cmdline)
        if (isDaemon) process.kill(p.pid, 'SIGHUP')
      }
    }

    type Action = { name: string; run: () => Promise<void> }
    const options = (): Action[] => {
      const acts: Action[] = []
      const bothUp = up.titanic5 && up.titanic6
      for (const seed of DIRECTORS) {
        const d = c.directors[seed]
        if (!up[seed]) {
          acts.push({ name: `reboot+start ${seed}`, run: async () => { await c.reboot(seed); crashed[seed] = false; await startNode(seed) } })
          // A crashed node comes back only through a reboot (its cable, /run and addresses).
          if (!crashed[seed]) acts.push({ name: `start ${seed}`, run: () => startNode(seed) })
          continue
        }
        if (!bothUp) continue
        acts.push({
          name: `crash ${seed} (SIGKILL + cable pulled)`,
          run: async () => {
            up[seed] = false
            crashed[seed] = true
            // What the peer holds the crashing node to: asked of a node of ours when there is one (the crashing
            // node itself, or its peer), so a network fault that began no generation grants nothing.
            const advertised = await advertisedDeadtime(seed)
            const margin = advertised !== undefined && advertised > DEADTIME_MS
            if (margin) noneLimitExtraUntilMs = Date.now() + 1000
            note(`  ${seed} advertises dt ${advertised ?? 'unknown'} ms${margin ? ': the no-holder limit is 2 s longer' : ''}`)
            await c.crash(seed)
          },
        })
        acts.push({ name: `graceful stop ${seed}`, run: async () => { await settled(); await stopNode(seed) } })
        if (d.impl === 'ts') {
          acts.push({ name: `hbctl standby on ${seed}`, run: async () => { await settled(); note(`  ${(await hbctl(c, seed, 'standby')).out}`) } })
          acts.push({ name: `hbctl takeover on ${seed}`, run: async () => { await settled(); note(`  ${(await hbctl(c, seed, 'takeover')).out}`) } })
        }
        acts.push({ name: `hb_standby (FIFO) on ${seed}`, run: async () => { await settled(); note(`  ${await fifoStandby(seed, 'hb_standby')}`) } })
        acts.push({ name: `hb_takeover (FIFO) on ${seed}`, run: async () => { await settled(); note(`  ${await fifoStandby(seed, 'hb_takeover')}`) } })
        acts.push({ name: `SIGHUP reload on ${seed} (valid ha.cf)`, run: async () => { await d.host.writeFile('etc/ha.d/ha.cf', `${validHaCf[seed]}# reloaded ${Date.now()}\n`); await sighup(seed) } })
        if (d.impl === 'ts') {
          // 3.0.6 is not under test: it may exit on a broken file (that is the behaviour issue 11 fixes in ours).
          for (const [what, extra] of [['mcast on an interface that does not exist', 'mcast nosuch0 225.0.0.1 694 1 0\n'], ['duplicate node line', `node ${d.name}\n`]] as const) {
            acts.push({
              name: `SIGHUP reload on ${seed} (broken ha.cf: ${what})`,
              run: async () => {
                await d.host.writeFile('etc/ha.d/ha.cf', validHaCf[seed] + extra)
                await sighup(seed)
                await new Promise((r) => setTimeout(r, 2000))
                await d.host.writeFile('etc/ha.d/ha.cf', validHaCf[seed])
                if (await daemonGoneFor(seed, 3000)) {
                  violate(`${seed} (ts) exited after a SIGHUP with a broken ha.cf (${what}); the old instance must go on`)
                  up[seed] = false
                }
              },
            })
          }
        }
        // On the holder, so the standby has a group to release through the hung ipvsadm.
        if (d.impl === 'ts' && holder?.seed === seed) {
          const hangMs = between(AGENT_TIMEOUT_MS + 1000, AGENT_TIMEOUT_MS + 4000)
          acts.push({
            name: `agent hangs: ipvsadm on ${seed} sleeps for ${hangMs} ms, then hbctl standby on ${seed}`,
            run: async () => {
              await settled()
              await d.host.writeFile(HANG_FLAG, '')
              try {
                note(`  ${(await hbctl(c, seed, 'standby')).out}`)
                await new Promise((r) => setTimeout(r, hangMs))
              } finally {
                await rm(join(d.host.root, HANG_FLAG), { force: true })
              }
              // A timed-out agent is cancelled, not left running to change the table later.
              await new Promise((r) => setTimeout(r, 1000))
              const left = (await nsProcs(d.host)).filter((p) => /soak\/bin\/ipvsadm/.test(p.cmdline))
              if (left.length > 0) violate(`${seed}: ${left.length} ipvsadm still running ${hangMs + 1000} ms after it hung (agent timeout ${AGENT_TIMEOUT_MS} ms): ${left.map((p) => p.pid).join(', ')}`)
            },
          })
        }
      }
      if (bothUp && opts.networkFaults !== false) for (const seed of DIRECTORS) {
        const d = c.directors[seed]
        const burstMs = between(DEADTIME_MS / 4, DEADTIME_MS * 2)
        const pct = pick([20, 50, 80])
        acts.push({
          name: `loss burst ${pct}% from ${seed} for ${burstMs} ms`,
          run: async () => {
            netFaultUntilMs = Number.POSITIVE_INFINITY
            await d.host.setLoss(pct)
            await new Promise((r) => setTimeout(r, burstMs))
            await d.host.clearLoss()
            netFaultUntilMs = Date.now()
            healedAtMs = Date.now()
          },
        })
        const oneWayMs = between(DEADTIME_MS / 2, DEADTIME_MS * 3)
        acts.push({
          name: `one-way loss: nothing from ${seed} for ${oneWayMs} ms`,
          run: async () => {
            netFaultUntilMs = Number.POSITIVE_INFINITY
            await d.host.setLoss(100)
            await new Promise((r) => setTimeout(r, oneWayMs))
            await d.host.clearLoss()
            netFaultUntilMs = Date.now()
            healedAtMs = Date.now()
          },
        })
      }
      if (bothUp && opts.networkFaults !== false) {
        const partMs = between(DEADTIME_MS / 2, DEADTIME_MS * 3)
        acts.push({
          name: `partition for ${partMs} ms, then healed`,
          run: async () => {
            netFaultUntilMs = Number.POSITIVE_INFINITY
            await c.directors.titanic5.host.setLoss(100)
            await c.directors.titanic6.host.setLoss(100)
            await new Promise((r) => setTimeout(r, partMs))
            await c.directors.titanic5.host.clearLoss()
            await c.directors.titanic6.host.clearLoss()
            netFaultUntilMs = Date.now()
            healedAtMs = Date.now()
          },
        })
      }
      if (realServerDown === undefined) {
        for (const h of c.reals) {
          acts.push({
            name: `real server ${h.hostname} fails (httpd killed)`,
            run: async () => {
              for (const p of await nsProcs(h)) if (/http-name-server/.test(p.cmdline)) process.kill(p.pid, 'SIGKILL')
              realServerDown = h
              await checkLvs(h, false)
            },
          })
        }
      } else {
        const h = realServerDown
        acts.push({
          name: `real server ${h.hostname} returns`,
          run: async () => {
            const p = h.spawn([process.execPath, httpServer, h.hostname.split('.')[0] ?? h.name, '80'])
            await p.waitForLine(/^listening$/, 15_000)
            realServerDown = undefined
            await checkLvs(h, true)
          },
        })
      }
      return acts
    }

    /** The LVS table follows a real server's failure or return within mon's interval + timeout (on a settled holder). */
    const checkLvs = async (h: Host, shouldBeIn: boolean): Promise<void> => {
      // Nothing else happens meanwhile: wait (bounded) for a holder whose hb-mon is past mon.cf's randstart.
      const held = await waitFor('a settled holder', async () => (holder !== undefined && Date.now() - holder.sinceMs >= LVS_STABLE_HOLDER_MS ? holder : undefined), LVS_STABLE_HOLDER_MS + 5000, 250).catch(() => undefined)
      if (held === undefined) {
        note(`  (LVS table check skipped: no settled holder)`)
        return
      }
      const dests = async (): Promise<boolean> => {
        const table = await c.ipvsSave(held.seed).catch(() => '')
        return new RegExp(`-r ${h.ip.replaceAll('.', '\\.')}:80\\b`).test(table)
      }
      const ok = await waitFor('LVS table', async () => ((await dests()) === shouldBeIn ? true : undefined), MON_LIMIT_MS, 250).then(() => true, () => false)
      if (!ok && holder?.seed === held.seed) {
        violate(`${h.hostname} ${shouldBeIn ? 'returned' : 'failed'} but ${held.seed}'s LVS table ${shouldBeIn ? 'lacks' : 'still has'} it after ${MON_LIMIT_MS} ms`)
      }
    }

    const endAt = Date.now() + opts.durationMs
    const maxActions = opts.maxActions ?? 1000
    for (let i = 0; i < maxActions && Date.now() < endAt; i++) {
      const act = pick(options())
      const atMs = Date.now()
      actions.push({ index: i, atMs, name: act.name, outageMs: 0 })
      note(`#${i} +${Math.round((atMs - (actions[0]?.atMs ?? atMs)) / 1000)}s ${act.name}`)
      try {
        await Promise.race([
          act.run(),
          new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`action took over ${STEP_TIMEOUT_MS * 2} ms`)), STEP_TIMEOUT_MS * 2).unref()),
        ])
      } catch (e) {
        violate(`action #${i} "${act.name}" failed: ${(e as Error).message.split('\n')[0]}`)
      }
      // Daemons that died without being asked to. Gone means none for 10 s: 3.0.6 itself sleeps in its
      // restart after a healed partition (restart_heartbeat), and one failed `ip netns pids` under load
      // lists nothing; a daemon that really died stays gone.
      for (const seed of DIRECTORS) {
        if (up[seed] && (await daemonGoneFor(seed, 10_000))) {
          const procs = (await nsProcs(c.directors[seed].host)).map((p) => `${p.pid} ${p.comm}`).join(', ')
          violate(`${seed} (${c.directors[seed].impl}) daemon is gone without being stopped (after "${act.name}"; processes: ${procs || 'none'})`)
          up[seed] = false
        }
      }
      // Let the cluster react, longer than the bounds the checker enforces.
      await new Promise((r) => setTimeout(r, between(DEADTIME_MS + 2500, DEADTIME_MS + 6000)))
    }
    // A final settle: everything the checker would still flag.
    await new Promise((r) => setTimeout(r, DEADTIME_MS + 2000))
    sampling = false
    await samplerDone

    // Outage per action from the prober's lines: the longest gap between answers inside the action's window.
    const answers = prober.lines.filter((l) => l.stream === 'stdout').map((l) => { const [ms, a] = l.text.split(' '); return { ms: Number(ms), ok: a !== undefined && a !== 'ERR' } })
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i] as ActionRecord
      const to = actions[i + 1]?.atMs ?? Date.now()
      let lastOk = a.atMs
      let worst = 0
      for (const x of answers) {
        if (x.ms < a.atMs || x.ms > to) continue
        if (x.ok) {
          worst = Math.max(worst, x.ms - lastOk)
          lastOk = x.ms
        }
      }
      worst = Math.max(worst, to - lastOk)
      a.outageMs = worst <= 100 ? 0 : worst
    }

    // A bound missed on a slow machine: show what else was using the CPUs (a leftover of an earlier test?).
    if (violations.length > 0) {
      const top = await execa('ps', ['-eo', 'pcpu=,etimes=,args=', '--sort=-pcpu'], { reject: false, timeout: 10_000 })
      logTails.push('--- busiest processes at the end of the run (%CPU over their life, seconds alive, command) ---', ...String(top.stdout ?? '').split('\n').slice(0, 8).map((l) => l.slice(0, 160)))
    }
    // Every daemon log line parseable, no stack trace.
    for (const seed of DIRECTORS) {
      const d = c.directors[seed]
      const log = await c.haLog(seed)
      if (violations.length > 0) {
        // The lines around each violation (the end of the log may be minutes later), then the last ones.
        for (const w of violationWindows.slice(0, 3)) {
          const around = linesBetween(log, w.fromMs - 8000, w.toMs + 2000).slice(0, 120)
          logTails.push(`--- ${seed} (${d.impl}) ha-log, ${new Date(w.fromMs - 8000).toISOString()} to ${new Date(w.toMs + 2000).toISOString()} ---`, ...around)
        }
        logTails.push(`--- ${seed} (${d.impl}) ha-log, last 30 lines ---`, ...log.split('\n').slice(-31))
      }
      // 3.0.6's own lines (its agents write free text) are not the product under test: only stack traces count there.
      for (const line of log.split('\n')) {
        if (line.trim() === '') continue
        if ((d.impl === 'ts' && !LOG_LINE.test(line)) || STACK.test(line)) badLogLines.push(`${seed} ha-log: ${line}`)
      }
      if (d.impl === 'ts') {
        for (const l of d.daemon?.lines ?? []) if (STACK.test(l.text)) badLogLines.push(`${seed} stderr: ${l.text}`)
      }
    }
    for (const l of badLogLines.slice(0, 20)) violate(`log line not in the log format or a stack trace: ${l}`)
  } finally {
    sampling = false
    await samplerDone.catch(() => undefined)
    prober?.kill('SIGTERM')
    await c.destroy()
  }
  // No leftover namespace, directory or process after the run.
  const ns = await execa('ip', ['-j', 'netns', 'list'], { reject: false, timeout: 10_000 })
  const leftNs = (JSON.parse(String(ns.stdout || '[]')) as Array<{ name?: string }>).map((e) => e.name ?? '').filter((n) => n.startsWith(`${opts.prefix}-`))
  if (leftNs.length > 0) violate(`namespaces left after the run: ${leftNs.join(', ')}`)
  const ps = await execa('ps', ['-eo', 'pid=,args='], { reject: false, timeout: 10_000 })
  const leftPs = String(ps.stdout).split('\n').filter((l) => l.includes(join(tmpdir(), `${opts.prefix}-`)))
  if (leftPs.length > 0) violate(`processes left after the run: ${leftPs.join('; ')}`)
  return { pair: opts.pair, seed: opts.seed, impl, actions, violations, badLogLines, logTails }
}

/**
 * The log lines stamped between two instants. The seed's logfacility form carries `Mon DD HH:MM:SS` in local time,
 * heartbeat's file form `YYYY/MM/DD_HH:MM:SS`; both have whole seconds, so the window is widened to them.
 */
function linesBetween(log: string, fromMs: number, toMs: number): string[] {
  const out: string[] = []
  const lo = Math.floor(fromMs / 1000) * 1000
  const hi = Math.ceil(toMs / 1000) * 1000
  for (const line of log.split('\n')) {
    const m = /^\w{3} [ \d]\d (\d\d):(\d\d):(\d\d) /.exec(line) ?? /\d{4}\/\d\d\/\d\d_(\d\d):(\d\d):(\d\d) /.exec(line)
    if (m === null) continue
    const at = new Date(fromMs)
    at.setHours(Number(m[1]), Number(m[2]), Number(m[3]), 0)
    if (at.getTime() >= lo && at.getTime() <= hi) out.push(line)
  }
  return out
}

export function formatReport(r: SoakResult): string {
  const lines = [`== soak ${r.pair} pair (titanic5 ${r.impl.titanic5}, titanic6 ${r.impl.titanic6}), seed ${r.seed}: ${r.actions.length} actions, ${r.violations.length} violations`]
  for (const a of r.actions) lines.push(`  #${a.index} ${a.name}: client outage ${a.outageMs} ms`)
  for (const v of r.violations) lines.push(`  VIOLATION ${v}`)
  if (r.violations.length > 0) lines.push(...r.logTails.map((l) => `  | ${l}`))
  if (r.violations.length > 0) lines.push(`  reproduce: npm run soak -- --pair ${r.pair} --seed ${r.seed}`)
  return lines.join('\n')
}
