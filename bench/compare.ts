// `npm run bench -- compare [--runs N]`: heartbeat-ts and the real heartbeat 3.0.6 (Debian's package) through the
// same namespace scenarios on the seed LVS cluster — crash, `heartbeat -k` on the holder, standby — at the seed
// timers and at keepalive 200 ms / deadtime 1 s, a client asking the VIP every 10 ms; then the idle cost of
// bench/daemon.ts for both. Prints median and worst of N runs and the ratio ours/3.0.6. Root only; nothing asserted.

import { cpus, loadavg, release } from 'node:os'
import { clockTicksPerSecond, execaImportCost, floorAvailability, FLOOR_TEXT, idleFloor, idleReal, idleTs, windowText, type IdleSetting } from './daemon.js'
import { crashRuns, IMPL_NAME, line, standbyRuns, stopRuns, toMs, withSeedPair, type Sample } from './failover.js'
import { medianAndWorst } from './ts-pair.js'
import type { Impl, SeedCluster } from '../test/cluster-e2e/seed-cluster.js'
import { hbctl, retimed } from '../test/cluster-e2e/scenario-helpers.js'
import { realHeartbeatAvailability } from '../test/netns/kit.js'

const DEFAULT_RUNS = 10

interface Setting {
  label: string
  keepalive: string
  deadtime: string
}

const SETTINGS: readonly Setting[] = [
  { label: 'seed timers (keepalive 2 s, deadtime 5 s)', keepalive: '2', deadtime: '5' },
  { label: 'keepalive 200 ms, deadtime 1 s', keepalive: '200ms', deadtime: '1' },
]

const IMPLS: readonly Impl[] = ['ts', 'real']

/** Row label → samples (ms), per implementation. */
type Rows = Map<string, Record<Impl, number[]>>

function put(rows: Rows, label: string, impl: Impl, xs: readonly number[]): void {
  const row = rows.get(label) ?? { ts: [], real: [] }
  row[impl].push(...xs)
  rows.set(label, row)
}

/** hbctl standby on heartbeat-ts, Debian's hb_standby (a message through the FIFO) on 3.0.6. */
async function standby(c: SeedCluster, impl: Impl, runs: number): Promise<Sample[]> {
  return standbyRuns(c, runs, async (from) => {
    if (impl === 'ts') {
      const r = await hbctl(c, from, 'standby')
      if (r.exitCode !== 0) throw new Error(`hbctl standby on ${from}: ${r.out}`)
      return
    }
    const r = await c.directors[from].host.exec(['/usr/share/heartbeat/hb_standby'], { env: c.envFor(from), timeoutMs: 20_000 })
    if (r.exitCode !== 0) throw new Error(`hb_standby on ${from}: exit ${r.exitCode} ${r.stderr}`)
  })
}

async function scenarios(impl: Impl, s: Setting, runs: number, rows: Rows): Promise<void> {
  const timers = timersText(s.keepalive, s.deadtime)
  process.stdout.write(`${IMPL_NAME[impl]}, ${s.label}: ${runs} crashes, ${runs} heartbeat -k, ${runs} standby (load average ${loadavg()[0]?.toFixed(2) ?? '?'})\n`)
  await withSeedPair({ prefix: `cmp${impl}`, impl: { titanic5: impl, titanic6: impl }, realServers: false, haCf: retimed(s.keepalive, s.deadtime, 'auto_failback on') }, async (c) => {
    const crash = await crashRuns(c, runs, toMs(s.deadtime), toMs(s.keepalive))
    put(rows, `crash → served, ${timers}`, impl, crash.map((x) => x.totalMs))
    put(rows, `  kill → gratuitous ARP, ${timers}`, impl, crash.map((x) => x.arpMs))
    const k = await stopRuns(c, runs)
    put(rows, `heartbeat -k → served, ${timers}`, impl, k.samples.map((x) => x.totalMs))
    put(rows, `  heartbeat -k returns, ${timers}`, impl, k.commandMs)
    put(rows, `  … daemon gone, ${timers}`, impl, k.goneMs)
    const sb = await standby(c, impl, runs)
    put(rows, `standby → served, ${timers}`, impl, sb.map((x) => x.totalMs))
  })
}

/** `2/5` → `2s/5s`, `200ms/1` → `200ms/1s` (ha.cf(5): a bare number is seconds). */
const timersText = (keepalive: string, deadtime: string): string => [keepalive, deadtime].map((v) => (/^\d+(\.\d+)?$/.test(v) ? `${v}s` : v)).join('/')

const r0 = (x: number): string => (Number.isFinite(x) ? String(Math.round(x)) : '-')
const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : '-')

function printTable(rows: Rows, idle: Record<Impl, IdleSetting[]>, floor: readonly IdleSetting[]): void {
  const w = 34
  process.stdout.write(
    `\n${'figure (ms; timers keepalive/deadtime)'.padEnd(w)}  ${'heartbeat-ts'.padStart(15)}  ${'3.0.6'.padStart(15)}  ours/3.0.6\n` +
      `${''.padEnd(w)}  ${'median / worst'.padStart(15)}  ${'median / worst'.padStart(15)}  median, worst\n`,
  )
  for (const [label, row] of rows) {
    const a = medianAndWorst(row.ts)
    const b = medianAndWorst(row.real)
    process.stdout.write(
      `${label.padEnd(w)}  ${`${r0(a.median)} / ${r0(a.worst)}`.padStart(15)}  ${`${r0(b.median)} / ${r0(b.worst)}`.padStart(15)}  ${ratio(a.median, b.median)}, ${ratio(a.worst, b.worst)}\n`,
    )
  }
  // Idle: the worse node of each pair (the figures per node are printed above).
  for (const [i, s] of idle.ts.entries()) {
    const real = idle.real[i]
    const timers = timersText(s.timers.keepalive, s.timers.deadtime)
    const worst = (xs: readonly number[]): number => Math.max(...xs)
    const cpu = { ts: worst(s.nodes.map((n) => n.cpuPct)), real: real ? worst(real.nodes.map((n) => n.cpuPct)) : Number.NaN }
    const rss = { ts: worst(s.nodes.map((n) => n.rssMb)), real: real ? worst(real.nodes.map((n) => n.rssMb)) : Number.NaN }
    process.stdout.write(`${`idle CPU % (worse node), ${timers}`.padEnd(w)}  ${cpu.ts.toFixed(2).padStart(15)}  ${cpu.real.toFixed(2).padStart(15)}  ${ratio(cpu.ts, cpu.real)}\n`)
    process.stdout.write(`${`idle RSS MB (worse node), ${timers}`.padEnd(w)}  ${rss.ts.toFixed(1).padStart(15)}  ${rss.real.toFixed(1).padStart(15)}  ${ratio(rss.ts, rss.real)}\n`)
    // what a bare Node loop costs for the same events: the part of ours no code of ours can remove
    const bare = floor[i]
    if (bare !== undefined) {
      const b = { cpu: worst(bare.nodes.map((n) => n.cpuPct)), rss: worst(bare.nodes.map((n) => n.rssMb)) }
      process.stdout.write(`${`  bare Node loop: CPU %, ${timers}`.padEnd(w)}  ${b.cpu.toFixed(2).padStart(15)}  ${'-'.padStart(15)}  ${ratio(b.cpu, cpu.real)} (floor/3.0.6)\n`)
      process.stdout.write(`${`  bare Node loop: RSS MB, ${timers}`.padEnd(w)}  ${b.rss.toFixed(1).padStart(15)}  ${'-'.padStart(15)}  ${ratio(b.rss, rss.real)} (floor/3.0.6)\n`)
    }
  }
}

export async function run(opts: Record<string, string> = {}): Promise<void> {
  const runs = Number(opts.runs ?? DEFAULT_RUNS)
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${opts.runs}: a whole number ≥ 1`)
  const a = await realHeartbeatAvailability()
  if (!a.ok) {
    process.stdout.write(`compare skipped: ${a.reason} (it runs the seed cluster in network namespaces with heartbeat-ts and with 3.0.6; root)\n`)
    return
  }
  const startedAt = new Date()
  process.stdout.write(
    `heartbeat-ts vs heartbeat 3.0.6 on the seed LVS cluster in namespaces, ${startedAt.toISOString()}; ${cpus().length} cores, Linux ${release()}, ` +
      `Node ${process.version}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at start\n` +
      'crash: every process of the holder SIGKILLed and its cable pulled at a random phase of its keepalive; heartbeat -k and standby\n' +
      '(hbctl standby / hb_standby) on the holder; each until the peer answers an HTTP GET to the VIP (client every 10 ms, 100 ms\n' +
      'timeout). auto_failback on, no debug; the stand-in ipvsadm (a Node process per call) in the lvs resource for both.\n',
  )
  const rows: Rows = new Map()
  // Alternate the implementations per setting so both see the same load over the run.
  for (const s of SETTINGS) for (const impl of IMPLS) await scenarios(impl, s, runs, rows)
  const hz = await clockTicksPerSecond()
  process.stdout.write(`idle cost (bench/daemon.ts): a quiet pair without resources, ${windowText(hz)}\n`)
  const idle = { ts: await idleTs(hz), real: await idleReal(hz) }
  const floorOk = await floorAvailability()
  const floor = floorOk.ok ? await idleFloor(hz) : []
  if (!floorOk.ok) process.stdout.write(`  floor: skipped (${floorOk.reason})\n`)
  for (const s of floor) process.stdout.write(`  floor (${FLOOR_TEXT}), ${s.label}: ${s.nodes.map((n) => `${n.name} ${n.cpuPct.toFixed(2)} % CPU, RSS ${n.rssMb.toFixed(1)} MB`).join('; ')}\n`)
  process.stdout.write(`  ${await execaImportCost()}\n`)
  for (const impl of IMPLS) {
    for (const s of idle[impl]) {
      process.stdout.write(`  ${IMPL_NAME[impl]}, ${s.label}: ${s.nodes.map((n) => `${n.name} ${n.cpuPct.toFixed(2)} % CPU, RSS ${n.rssMb.toFixed(1)} MB${n.processes > 1 ? ` in ${n.processes} processes` : ''}`).join('; ')}\n`)
    }
  }
  printTable(rows, idle, floor)
  process.stdout.write('\neach run (ms):\n')
  for (const [label, row] of rows) {
    for (const impl of IMPLS) process.stdout.write(`${line(`${label.trim()} ${impl}`, row[impl], '')}\n`)
  }
  process.stdout.write(`finished ${new Date().toISOString()}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end\n`)
}
