// Issue 15 target 2: keepalive 20 ms / deadtime 100 ms on the seed cluster (heartbeat-ts on both directors) with a
// busy loop on every core. A steady window in which every death is a false one (60 s; `--seconds 600` for the
// 10-minute run), then crash → the peer answering the VIP (median and worst of `--runs`, default 10); and what
// limits it, from the daemons' own HBTS_RUNTIME_STATS lines: event-loop delay, deadline-timer lateness, GC pauses.
// `--hog off` runs it on an idle machine; `--impl real` (or `both`) runs the same on two real 3.0.6 daemons, which
// have no runtime stats. Root only; printed, never asserted.

import { availableParallelism, loadavg } from 'node:os'
import { crashRuns, IMPL_NAME, line, settled, STARTUP_DEADTIME_WINDOW_MS, withSeedPair } from './failover.js'
import { startHog, stopHog } from './membership.js'
import { medianAndWorst } from './ts-pair.js'
import { VIP, type Impl, type SeedCluster } from '../test/cluster-e2e/seed-cluster.js'
import { retimed, waitOwner } from '../test/cluster-e2e/scenario-helpers.js'
import { netnsAvailability, realHeartbeatAvailability } from '../test/netns/kit.js'
import type { SeedNode } from '../test/netns/seed-node.js'
import { parseRuntimeStats, type RuntimeStatsLine as Stats } from '../lib/io/runtime-stats.js'

const KEEPALIVE_MS = 20
const DEADTIME_MS = 100
/** The daemons' report interval (s). */
const STATS_EVERY_S = 10

const SEEDS: readonly SeedNode[] = ['titanic5', 'titanic6']

async function logFrom(c: SeedCluster, seed: SeedNode, from: number): Promise<string> {
  return (await c.haLog(seed)).slice(from)
}

function statsText(xs: readonly Stats[]): string {
  if (xs.length === 0) return 'no runtime stats lines'
  const max = (f: (s: Stats) => number): string => Math.max(...xs.map(f).filter(Number.isFinite)).toFixed(1)
  const med = (f: (s: Stats) => number): string => medianAndWorst(xs.map(f).filter(Number.isFinite)).median.toFixed(1)
  const sum = (f: (s: Stats) => number): number => xs.reduce((n, s) => n + f(s), 0)
  return (
    `event-loop delay p99 ${med((s) => s.loopP99Ms)} ms (median of ${STATS_EVERY_S} s intervals), max ${max((s) => s.loopMaxMs)} ms; ` +
    `deadline timer late p99 ${med((s) => s.lateP99Ms)} ms, max ${max((s) => s.lateMaxMs)} ms; ` +
    `GC ${sum((s) => s.gcPauses)} pauses, ${sum((s) => s.gcTotalMs).toFixed(0)} ms in all, longest ${max((s) => s.gcLongestMs)} ms`
  )
}

export async function run(opts: Record<string, string> = {}): Promise<void> {
  const a = await netnsAvailability()
  if (!a.ok) {
    process.stdout.write(`fast-timers bench skipped: ${a.reason} (it builds the seed cluster in network namespaces; run as root)\n`)
    return
  }
  const seconds = Number(opts.seconds ?? 60)
  const runs = Number(opts.runs ?? 10)
  const hogOn = opts.hog !== 'off'
  if (!(seconds > 0) || !Number.isInteger(runs) || runs < 0) throw new Error('--seconds S (> 0) and --runs N (≥ 0)')
  const implOpt = opts.impl ?? 'ts'
  if (!['ts', 'real', 'both'].includes(implOpt)) throw new Error(`--impl ${implOpt}: ts, real or both`)
  const impls: Impl[] = implOpt === 'both' ? ['ts', 'real'] : [implOpt as Impl]
  if (impls.includes('real')) {
    const r = await realHeartbeatAvailability()
    if (!r.ok) throw new Error(`--impl ${implOpt}: ${r.reason}`)
  }
  // The hog ends by itself even if this process dies: steady window + crashes at their slowest + start-up.
  const hog = hogOn ? startHog(impls.length * (seconds * 1000 + runs * 40_000 + 180_000)) : []
  try {
    for (const impl of impls) {
      process.stdout.write(
        `seed cluster in namespaces (${IMPL_NAME[impl]} on both directors), keepalive ${KEEPALIVE_MS} ms, deadtime ${DEADTIME_MS} ms, auto_failback on` +
          `${impl === 'ts' ? `, HBTS_RUNTIME_STATS=${STATS_EVERY_S}` : ''}; ${hogOn ? `${availableParallelism()} busy loops (one per core)` : 'no CPU hog'}; ` +
          `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at start, ${new Date().toISOString()}\n`,
      )
      await withSeedPair(
        {
          prefix: impl === 'ts' ? 'fastb' : 'fastbr',
          impl: { titanic5: impl, titanic6: impl },
          realServers: false,
          haCf: retimed(`${KEEPALIVE_MS}ms`, `${DEADTIME_MS}ms`, 'auto_failback on'),
          ...(impl === 'ts' ? { env: { HBTS_RUNTIME_STATS: String(STATS_EVERY_S) } } : {}),
        },
        (c) => measureFast(c, impl, seconds, runs),
      )
    }
  } finally {
    await stopHog(hog)
  }
}

async function measureFast(c: SeedCluster, impl: Impl, seconds: number, runs: number): Promise<void> {
  const stats = (text: string): string => (impl === 'ts' ? statsText(parseRuntimeStats(text)) : 'no runtime stats (3.0.6 has none)')
  // Past both nodes' start-up deadtime (deadtime + 2 s for their first 5 s).
  await new Promise((r) => setTimeout(r, STARTUP_DEADTIME_WINDOW_MS))
  const from = { titanic5: (await c.haLog('titanic5')).length, titanic6: (await c.haLog('titanic6')).length }
  const prober = await c.startProber(10, 100)
  const steadyFrom = Date.now()
  await new Promise((r) => setTimeout(r, seconds * 1000))
  prober.kill('SIGTERM')
  const probes = prober.lines.filter((l) => Number(l.text.split(' ')[0]) >= steadyFrom)
  const failed = probes.filter((l) => l.text.split(' ')[1] !== 'titanic5')
  const owners = await c.owners()
  process.stdout.write(`steady ${seconds} s (load average ${loadavg()[0]?.toFixed(2) ?? '?'} at the end):\n`)
  for (const seed of SEEDS) {
    const text = await logFrom(c, seed, from[seed])
    const deaths = text.split('\n').filter((l) => /: is dead$/.test(l.trim()))
    const late = text.split('\n').filter((l) => /Late heartbeat/.test(l))
    const worstLate = Math.max(0, ...late.map((l) => Number(/interval ([\d.]+) ms/.exec(l)?.[1] ?? 0)))
    process.stdout.write(
      `  ${seed}: false deaths ${deaths.length}, late-heartbeat warnings ${late.length}${late.length > 0 ? ` (longest silence ${worstLate.toFixed(0)} ms)` : ''}\n` +
        `    ${stats(text)}\n`,
    )
    for (const l of deaths.slice(0, 5)) process.stdout.write(`    ${l.trim()}\n`)
  }
  process.stdout.write(
    `  client: ${probes.length} GETs to ${VIP}, ${failed.length} not answered by titanic5${failed.length > 0 ? ` (first: ${failed[0]?.text ?? ''})` : ''}; VIP held by ${owners.join(', ') || 'nobody'} at the end\n`,
  )
  if (runs > 0) {
    // Every death from here on is a real one; settle first in case the steady window moved the group.
    await waitOwner(c, 'titanic5', 60_000)
    await settled(c)
    const crash = await crashRuns(c, runs, DEADTIME_MS, KEEPALIVE_MS)
    process.stdout.write(`${line('crash → VIP answered by the peer', crash.map((x) => x.totalMs), '; target ≤ 130 ms median')}\n`)
    process.stdout.write(`${line('  kill → first gratuitous ARP', crash.map((x) => x.arpMs), '')}\n`)
    process.stdout.write(`${line('  first ARP → first HTTP answer', crash.map((x) => x.answerAfterArpMs), '')}\n`)
    process.stdout.write(`${line('  kill → last heartbeat + deadtime', crash.map((x) => x.deadlineMs ?? Number.NaN), '')}\n`)
    process.stdout.write(`  titanic6 over the whole run: ${stats(await c.haLog('titanic6'))}\n`)
  }
}
