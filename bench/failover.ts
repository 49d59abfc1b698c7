// Failover bench on the seed cluster in namespaces: crash of the VIP's holder → first HTTP answer from the
// peer, and the three graceful hand-overs (`hbctl standby`, 3.0.6's hb_standby script through the FIFO,
// `heartbeat -k` on the holder) → first answer from the peer; median and worst of several runs. Root only.

import { join } from 'node:path'
import { existsSync } from 'node:fs'
import { netnsAvailability, REAL_HEARTBEAT, repoRoot, waitFor, type Proc } from '../test/netns/kit.js'
import type { SeedNode } from '../test/netns/seed-node.js'
import { buildSeedCluster, realHeartbeatPids, VIP, type Impl, type SeedCluster, type SeedClusterOptions } from '../test/cluster-e2e/seed-cluster.js'
import { parseDuration } from '../lib/config/duration.js'
import { SEED_ADDRESS } from '../test/netns/seed-node.js'
import { firstAnswer, hbctl, retimed, waitOwner } from '../test/cluster-e2e/scenario-helpers.js'
import { medianAndWorst } from './ts-pair.js'

const RUNS = Number(process.env.BENCH_FAILOVER_RUNS ?? 10)
/** Which scenarios run: crash, standby (hbctl), hb_standby, kill (`heartbeat -k`); all by default. */
const SCENARIOS = new Set((process.env.BENCH_FAILOVER_SCENARIOS ?? 'crash,standby,hb_standby,kill').split(',').map((x) => x.trim()))
/** 3.0.6's own script: a shell writing ask_resources into the FIFO (ha_clustermsg). */
const HB_STANDBY = '/usr/share/heartbeat/hb_standby'
const HEARTBEAT_CLI = join(repoRoot, 'dist', 'lib', 'cli', 'heartbeat.js')
const KEEPALIVE = process.env.BENCH_FAILOVER_KEEPALIVE ?? '200ms'
const DEADTIME = process.env.BENCH_FAILOVER_DEADTIME ?? '1'
/** `debug 1` in ha.cf so ha-debug gets the agents' durations for the breakdown; BENCH_FAILOVER_DEBUG=0 for the bare figures. */
const DEBUG = process.env.BENCH_FAILOVER_DEBUG !== '0'
/** More ha.cf lines for both directors (e.g. `realtime off`). */
const EXTRA = process.env.BENCH_FAILOVER_HACF ?? ''
/** An ha.cf(5) time (a bare number is seconds) in ms, read as the daemon reads it; NaN when it is none. */
export function toMs(v: string): number {
  const d = parseDuration(v)
  return d.ok ? d.ms : Number.NaN
}

/** How the benches name each implementation. */
export const IMPL_NAME: Record<Impl, string> = { ts: 'heartbeat-ts', real: 'heartbeat 3.0.6' }

/** 5 s of start-up deadtime + one keepalive-ish margin. */
export const STARTUP_DEADTIME_WINDOW_MS = 6000

export const other = (s: SeedNode): SeedNode => (s === 'titanic5' ? 'titanic6' : 'titanic5')

/** Both directors' own cl_status says no resource transition is under way (hbctl's for heartbeat-ts, the real one for 3.0.6). */
export async function settled(c: SeedCluster): Promise<void> {
  await waitFor('both nodes settled', async () => {
    for (const seed of ['titanic5', 'titanic6'] as const) {
      const d = c.directors[seed]
      const r = d.impl === 'ts' ? await hbctl(c, seed, 'cl_status', 'rscstatus') : await d.host.clStatus(['rscstatus']).then((x) => ({ exitCode: x.exitCode, out: x.stdout.trim() }))
      if (r.exitCode !== 0 || r.out === 'transition') return undefined
    }
    return true
  }, 60_000, 200)
  // Each node learns the other's settled state from its next message.
  await new Promise((r) => setTimeout(r, 500))
}

/** What the client's wire and the daemons' debug logs say about one failover. */
export interface Sample {
  totalMs: number
  /** Act → the new holder's first gratuitous ARP frame seen by the client. */
  arpMs: number
  /** First gratuitous frame → first HTTP answer. */
  answerAfterArpMs: number
  /** Act → the moment the old holder's last heartbeat plus the deadtime ran out (crash only). */
  deadlineMs?: number
  /** `builtin:<agent> … <op>: exit N in X ms` from the daemons' ha-debug, keyed `<node> <agent> <op>`. */
  agentMs: Map<string, number>
}

/** The client's view of the wire: tcpdump with kernel timestamps (the same clock as Date.now()). */
async function startWire(c: SeedCluster): Promise<Proc> {
  const p = c.client.spawn(['tcpdump', '-l', '-n', '-e', '-tt', '-i', 'eth0', 'arp or udp port 1001'])
  await p.waitForLine(/listening on/, 10_000)
  return p
}

/** First gratuitous frame (request or reply for the VIP by the VIP) from `seed`'s MAC at or after fromMs. */
function firstGarp(c: SeedCluster, wire: Proc, seed: SeedNode, fromMs: number): number | undefined {
  const mac = c.directors[seed].mac
  for (const l of wire.lines) {
    const m = /^(\d+\.\d+) (\S+) > /.exec(l.text)
    if (m === null || m[2]?.toLowerCase() !== mac) continue
    const at = Number(m[1]) * 1000
    if (at < fromMs) continue
    if (l.text.includes(`who-has ${VIP} tell ${VIP}`) || l.text.includes(`Reply ${VIP} is-at`)) return at
  }
  return undefined
}

/** The last heartbeat `seed` put on the wire before `beforeMs`. */
function lastHeartbeat(wire: Proc, seed: SeedNode, beforeMs: number): number | undefined {
  // From any source port to udpport 1001 (the seed's).
  const src = new RegExp(`: ${(SEED_ADDRESS[seed].split('/')[0] ?? '').replaceAll('.', '\\.')}\\.\\d+ > \\S+\\.1001: UDP`)
  let last: number | undefined
  for (const l of wire.lines) {
    const at = Number(l.text.split(' ')[0]) * 1000
    if (at < beforeMs && src.test(l.text)) last = at
  }
  return last
}

async function debugLength(c: SeedCluster, seed: SeedNode): Promise<number> {
  return (await c.directors[seed].host.readFile('var/log/ha-debug').catch(() => Buffer.alloc(0))).length
}

/** Whether the director's ha-debug has a line matching `re` since `from` (bytes). */
async function agentLogged(c: SeedCluster, seed: SeedNode, from: number, re: RegExp): Promise<boolean> {
  const text = (await c.directors[seed].host.readFile('var/log/ha-debug').catch(() => Buffer.alloc(0))).subarray(from).toString('latin1')
  return re.test(text)
}

/** Agent durations logged since `from` (bytes) in the director's ha-debug. */
async function agentTimes(c: SeedCluster, seed: SeedNode, from: number, into: Map<string, number>): Promise<void> {
  const text = (await c.directors[seed].host.readFile('var/log/ha-debug').catch(() => Buffer.alloc(0))).subarray(from).toString('latin1')
  for (const m of text.matchAll(/builtin:(\w+) .*?(start|stop|status): exit \d+ in (\d+) ms/g)) {
    const key = `${seed} ${m[1] ?? ''} ${m[2] ?? ''}`
    // a takeover's first status and start are the ones on the critical path
    if (!into.has(key)) into.set(key, Number(m[3]))
  }
  // the lvs stop's first part: hb-mon's SIGTERM until its process group is gone
  const monitor = /lvs: monitor stopped \(pid \d+, [^,]+, in (\d+) ms\)/.exec(text)
  if (monitor !== null && !into.has(`${seed} monitor stop`)) into.set(`${seed} monitor stop`, Number(monitor[1]))
}

/**
 * `act()` (returning its start time) until `to` answers on the VIP, with the client's wire and both daemons' agent times.
 * `deadtimeMs` (crash only) places the old holder's deadline: its last heartbeat on the wire + the deadtime.
 */
export async function measure(c: SeedCluster, to: SeedNode, act: () => Promise<number>, deadtimeMs = 0): Promise<Sample> {
  const prober = await c.startProber(10, 100)
  const wire = await startWire(c)
  const logFrom = { titanic5: await debugLength(c, 'titanic5'), titanic6: await debugLength(c, 'titanic6') }
  try {
    // The giver's last heartbeat before the act must be on the wire: tcpdump has only just started.
    await waitFor('a heartbeat from the holder on the wire', async () => lastHeartbeat(wire, other(to), Date.now()), 5_000, 20)
    const at = await act()
    const answered = await waitFor(`${to} answers`, async () => firstAnswer(prober, to, at), 60_000, 20)
    // tcpdump's line can trail the HTTP answer by a read or two
    const arpAt = await waitFor(`${to}'s gratuitous ARP on the client's wire`, async () => firstGarp(c, wire, to, at), 5_000, 20).catch(() => Number.NaN)
    // The giver's lvs stop now ends after the hand-over (address first): wait for its line (not after a crash).
    if (deadtimeMs === 0 && c.directors[other(to)].impl === 'ts') await waitFor("the giver's lvs stop in its ha-debug", async () => (await agentLogged(c, other(to), logFrom[other(to)], /builtin:lvs .*?stop: exit \d+ in \d+ ms/) ? true : undefined), 5_000, 50).catch(() => undefined)
    const agentMs = new Map<string, number>()
    for (const seed of ['titanic5', 'titanic6'] as const) await agentTimes(c, seed, logFrom[seed], agentMs)
    const last = lastHeartbeat(wire, other(to), at)
    return { totalMs: answered - at, arpMs: arpAt - at, answerAfterArpMs: answered - arpAt, agentMs, ...(last === undefined ? {} : { deadlineMs: last + deadtimeMs - at }) }
  } finally {
    prober.kill('SIGTERM')
    wire.kill('SIGTERM')
  }
}

/** Median start-up cost of one stand-in ipvsadm call in a director, over a C program run the same way. */
async function standinCostMs(c: SeedCluster): Promise<number> {
  const time = async (argv: string[]): Promise<number> => {
    const xs: number[] = []
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now()
      await c.directors.titanic6.host.exec(argv, { env: c.envFor('titanic6') })
      xs.push(performance.now() - t0)
    }
    return medianAndWorst(xs).median
  }
  return (await time(['ipvsadm', '-S', '-n'])) - (await time(['ip', '-V']))
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * titanic5 started again, holding its group (auto_failback on), both settled, and past its start-up deadtime:
 * a starting node advertises deadtime + 2 s for its first 5 s (3.0.6's add_deadtime), so it is crashed or
 * stopped only once its peer uses the configured deadtime again. Its own start (a loaded machine can take
 * seconds to start Node) is before it took the group back.
 */
async function titanic5Back(c: SeedCluster): Promise<void> {
  await c.start('titanic5')
  await waitOwner(c, 'titanic5', 60_000)
  const ownerAt = Date.now()
  await settled(c)
  const wait = ownerAt + STARTUP_DEADTIME_WINDOW_MS - Date.now()
  if (wait > 0) await sleep(wait)
}

/** An odd number of hand-overs leaves titanic6 holding: give the group back before the next scenario. */
async function backToTitanic5(c: SeedCluster): Promise<void> {
  if ((await c.owners()).includes('titanic5')) return
  await hbctl(c, 'titanic6', 'standby')
  await waitOwner(c, 'titanic5', 30_000)
  await settled(c)
}

/**
 * `runs` times `heartbeat -k` on titanic5 holding the VIP (what the init script's stop does), each until titanic6
 * answers; titanic5 is started again and takes its group back (auto_failback on) between runs. Also returns how
 * long the command took (the admin's wait) and until no daemon process was left. Both implementations.
 */
export async function stopRuns(c: SeedCluster, runs: number): Promise<{ samples: Sample[]; commandMs: number[]; goneMs: number[] }> {
  const d = c.directors.titanic5
  const argv = d.impl === 'ts' ? [process.execPath, HEARTBEAT_CLI, '-k'] : [REAL_HEARTBEAT, '-k']
  const samples: Sample[] = []
  const commandMs: number[] = []
  const goneMs: number[] = []
  for (let i = 0; i < runs; i++) {
    samples.push(
      await measure(c, 'titanic6', async () => {
        const at = Date.now()
        // The answer is looked for from `at` on, so waiting here for the command loses nothing.
        const r = await d.host.exec(argv, { env: c.envFor('titanic5'), timeoutMs: 60_000 })
        if (r.exitCode !== 0) throw new Error(`heartbeat -k on titanic5 (${d.impl}): exit ${r.exitCode} ${r.stderr}`)
        commandMs.push(Date.now() - at)
        // Until no daemon process is left (heartbeat-ts's -k itself waits for that; 3.0.6's may not).
        if (d.impl === 'ts') await d.daemon?.exited
        else await waitFor('titanic5: heartbeat 3.0.6 gone', async () => ((await realHeartbeatPids(d.host)).length > 0 ? undefined : true), 60_000, 20)
        goneMs.push(Date.now() - at)
        return at
      }),
    )
    // Already stopped: this only brings the cluster's own view of the daemon up to date.
    await c.stop('titanic5')
    await titanic5Back(c)
  }
  return { samples, commandMs, goneMs }
}

/**
 * `runs` crashes of titanic5 holding the VIP (every process SIGKILLed, cable pulled) at a uniformly random phase
 * of its keepalive, each measured until titanic6 answers; titanic5 is rebooted, restarted and takes its group back
 * (auto_failback on) between runs. Works for both implementations.
 */
/**
 * The seed cluster built with `opts`, both directors started, titanic5 holding the group and both settled;
 * `body` runs on it, then everything is removed (on Ctrl-C too).
 */
export async function withSeedPair<T>(opts: SeedClusterOptions, body: (c: SeedCluster) => Promise<T>): Promise<T> {
  const c = await buildSeedCluster(opts)
  const stop = (): void => void c.destroy().finally(() => process.exit(130))
  process.once('SIGINT', stop)
  try {
    await c.start('titanic5')
    await c.start('titanic6')
    await waitOwner(c, 'titanic5', 60_000)
    await settled(c)
    return await body(c)
  } catch (err) {
    // What each director said last, for a run that failed.
    for (const seed of ['titanic5', 'titanic6'] as const) {
      const lines = (await c.haLog(seed)).split('\n').filter((l) => /dead|restart|Late|transition|acquisition|release|takeover|giving up|Starting|ERROR|CRIT/i.test(l))
      process.stdout.write(`--- ${seed} ha-log, membership and resource lines ---\n${lines.slice(-40).join('\n')}\n`)
    }
    throw err
  } finally {
    process.off('SIGINT', stop)
    await c.destroy()
  }
}

export async function crashRuns(c: SeedCluster, runs: number, deadtimeMs: number, keepaliveMs: number): Promise<Sample[]> {
  const out: Sample[] = []
  for (let i = 0; i < runs; i++) {
    // measure() starts when a heartbeat is on the wire; a uniform wait over one keepalive makes the phase uniform.
    out.push(
      await measure(c, 'titanic6', async () => {
        await sleep(Math.random() * keepaliveMs)
        return c.crash('titanic5')
      }, deadtimeMs),
    )
    await c.reboot('titanic5')
    await titanic5Back(c)
  }
  return out
}

/** `runs` graceful hand-overs by `give(holder)` (hbctl standby, hb_standby), alternating direction; each until the peer answers. */
export async function standbyRuns(c: SeedCluster, runs: number, give: (holder: SeedNode) => Promise<void>): Promise<Sample[]> {
  const out: Sample[] = []
  let holder: SeedNode = 'titanic5'
  for (let i = 0; i < runs; i++) {
    const from = holder
    out.push(
      await measure(c, other(from), async () => {
        const at = Date.now()
        await give(from)
        return at
      }),
    )
    holder = other(from)
    await waitOwner(c, holder, 30_000)
    await settled(c)
  }
  return out
}

export function line(label: string, xs: readonly number[], note: string): string {
  const { median, worst } = medianAndWorst(xs)
  return `${label.padEnd(36)} median ${String(Math.round(median)).padStart(5)} ms   worst ${String(Math.round(worst)).padStart(5)} ms   (${xs.length} runs: ${xs.map((x) => Math.round(x)).join(', ')})${note}`
}

export async function run(): Promise<void> {
  const a = await netnsAvailability()
  if (!a.ok) {
    process.stdout.write(`failover bench skipped: ${a.reason} (it builds the seed cluster in network namespaces; run as root)\n`)
    return
  }
  const deadtimeMs = toMs(DEADTIME)
  process.stdout.write(`seed cluster in namespaces (heartbeat-ts on titanic5 and titanic6), keepalive ${KEEPALIVE}, deadtime ${DEADTIME} (${deadtimeMs} ms), auto_failback on${DEBUG ? ', debug 1' : ''}; HTTP probe every 10 ms\n`)
  await withSeedPair({ prefix: 'fobench', realServers: false, haCf: retimed(KEEPALIVE, DEADTIME, `auto_failback on${DEBUG ? '\ndebug 1' : ''}${EXTRA === '' ? '' : `\n${EXTRA}`}`) }, async (c) => {
    const crash = SCENARIOS.has('crash') ? await crashRuns(c, RUNS, deadtimeMs, toMs(KEEPALIVE)) : []
    const standby = SCENARIOS.has('standby')
      ? await standbyRuns(c, RUNS, async (from) => {
          const r = await hbctl(c, from, 'standby')
          if (r.exitCode !== 0) throw new Error(`hbctl standby on ${from}: ${r.out}`)
        })
      : []
    await backToTitanic5(c)
    const hbStandby =
      SCENARIOS.has('hb_standby') && existsSync(HB_STANDBY)
        ? await standbyRuns(c, RUNS, async (from) => {
            const r = await c.directors[from].host.exec([HB_STANDBY], { env: c.envFor(from), timeoutMs: 30_000 })
            if (r.exitCode !== 0) throw new Error(`hb_standby on ${from}: ${r.stdout}${r.stderr}`)
          })
        : []
    await backToTitanic5(c)
    const kill = SCENARIOS.has('kill') ? (await stopRuns(c, RUNS)).samples : []
    const standinMs = await standinCostMs(c)
    const med = (xs: readonly number[]): number => Math.round(medianAndWorst(xs.filter((x) => Number.isFinite(x))).median)
    // A built-in IPaddr starts a group not held here without a status call first: say so, not NaN.
    const medOrNone = (xs: readonly number[]): string => (xs.some((x) => Number.isFinite(x)) ? `${med(xs)} ms` : 'none (no call)')
    const agent = (xs: readonly Sample[], key: string): number[] => xs.map((x) => x.agentMs.get(key) ?? Number.NaN)
    if (crash.length > 0) {
      const totals = crash.map((x) => x.totalMs)
      process.stdout.write(`${line('crash → VIP answered by the peer', totals, '')}\n`)
      process.stdout.write(`${line('  of which beyond the deadtime', totals.map((x) => x - deadtimeMs), '; target ≤ 50 ms median')}\n`)
      // Detection ends where the takeover's agents begin: the first frame goes out as IPaddr start ends.
      const ipaddrUp = (x: Sample): number => (x.agentMs.get('titanic6 IPaddr status') ?? 0) + (x.agentMs.get('titanic6 IPaddr start') ?? 0)
      const detect = crash.map((x) => x.arpMs - ipaddrUp(x))
      process.stdout.write(
        '  breakdown (medians; from the client\'s wire with tcpdump and titanic6\'s ha-debug):\n' +
          `    kill → titanic5's silence + deadtime runs out   ${med(crash.map((x) => x.deadlineMs ?? Number.NaN))} ms (its last heartbeat was up to one keepalive before the kill)\n` +
          `    kill → titanic6 declares it dead (est.)         ${med(detect)} ms  (late by ${med(crash.map((x, i) => (detect[i] ?? 0) - (x.deadlineMs ?? Number.NaN)))} ms)\n` +
          `    IPaddr status + start on titanic6               ${med(agent(crash, 'titanic6 IPaddr status'))} + ${med(agent(crash, 'titanic6 IPaddr start'))} ms\n` +
          `    kill → first gratuitous ARP on the wire         ${med(crash.map((x) => x.arpMs))} ms\n` +
          `    first ARP → first HTTP answer                   ${med(crash.map((x) => x.answerAfterArpMs))} ms (the prober's try in flight to the dead MAC runs to its 100 ms timeout first;\n` +
          '                                                    a real client would retransmit its SYN after 1 s)\n',
      )
    }
    const giver = (x: Sample, agentName: string, op: string): number => x.agentMs.get(`titanic5 ${agentName} ${op}`) ?? x.agentMs.get(`titanic6 ${agentName} ${op}`) ?? Number.NaN
    const graceful = (label: string, xs: readonly Sample[], startup: string): void => {
      if (xs.length === 0) return
      process.stdout.write(`${line(`${label} → answered by the peer`, xs.map((x) => x.totalMs), '; target ≤ 100 ms median, ≤ 200 ms worst')}\n`)
      process.stdout.write(
        '  breakdown (medians):\n' +
          `    giver: IPaddr stop ${med(xs.map((x) => giver(x, 'IPaddr', 'stop')))} ms, then (after telling the peer, off the critical path) lvs stop ${med(xs.map((x) => giver(x, 'lvs', 'stop')))} ms (of which hb-mon's stop ${med(xs.map((x) => giver(x, 'monitor', 'stop')))} ms)\n` +
          `    taker: IPaddr status ${medOrNone(xs.map((x) => x.agentMs.get('titanic6 IPaddr status') ?? x.agentMs.get('titanic5 IPaddr status') ?? Number.NaN))}, IPaddr start ${med(xs.map((x) => x.agentMs.get('titanic6 IPaddr start') ?? x.agentMs.get('titanic5 IPaddr start') ?? Number.NaN))} ms\n` +
          `    ${label} → first gratuitous ARP on the wire  ${med(xs.map((x) => x.arpMs))} ms (includes ${startup} and the hand-over messages)\n` +
          `    first ARP → first HTTP answer               ${med(xs.map((x) => x.answerAfterArpMs))} ms\n`,
      )
    }
    graceful('hbctl standby', standby, "hbctl's own Node start-up")
    graceful('hb_standby (FIFO)', hbStandby, "the shell script's start-up")
    graceful('heartbeat -k on the holder', kill, "the heartbeat CLI's Node start-up")
    process.stdout.write(
      `  stand-in ipvsadm: ${Math.round(standinMs)} ms of Node start-up per call (measured after the runs; it varies with load); the\n` +
        "    giver's lvs stop runs it once (one -D per service), after the peer was told (the seed's group releases its\n" +
        '    address first). The taker starts lvs after IPaddr: no ipvsadm call is before the first answer.\n',
    )
    process.stdout.write(
      'Measured from the SIGKILL (resp. the hbctl command, including its own start-up) to the first HTTP answer\n' +
        `from the peer seen by the client. The lvs resource runs the stand-in ipvsadm (${join('test', 'bin', 'ipvsadm')}, one Node process\n` +
        "per call) because this kernel has no IPVS; a graceful hand-over waits for the old holder's IPaddr stop only.\n",
    )
  })
}
