// Detection lateness of a SIGKILLed peer (median and worst, per timer setting) and false deaths under
// CPU load, for two heartbeat-ts daemons in network namespaces. Printed figures, never asserted.

import { availableParallelism, loadavg } from 'node:os'
import { execa, type ResultPromise } from 'execa'
import { buildTsPair, medianAndWorst, type PairMember, type Timers, type TsPair } from './ts-pair.js'

interface Setting {
  label: string
  timers: Timers
  /** Busy loops on every core while this setting runs. */
  loaded: boolean
  /** Steady window in which any death is a false one (0: none). */
  steadyMs: number
}

const KILLS = Number(process.env.BENCH_KILLS ?? 5)
const STEADY_MS = Number(process.env.BENCH_STEADY_MS ?? 30_000)

const settings: Setting[] = [
  { label: 'keepalive 2s, deadtime 5s', timers: { keepalive: '2', deadtime: '5' }, loaded: false, steadyMs: 0 },
  { label: 'keepalive 200ms, deadtime 1s', timers: { keepalive: '200ms', deadtime: '1' }, loaded: false, steadyMs: 0 },
  { label: 'keepalive 50ms, deadtime 250ms, CPU hog', timers: { keepalive: '50ms', deadtime: '250ms' }, loaded: true, steadyMs: STEADY_MS },
]

/** One busy loop per core, each ending by itself after `ms` even if this process dies. */
export function startHog(ms: number): ResultPromise[] {
  const body = `const end = Date.now() + ${ms}; let x = 0; while (Date.now() < end) x++`
  return Array.from({ length: availableParallelism() }, () =>
    execa(process.execPath, ['-e', body], { reject: false, stdin: 'ignore', timeout: ms + 5000, killSignal: 'SIGKILL' }),
  )
}

export async function stopHog(hog: readonly ResultPromise[]): Promise<void> {
  for (const p of hog) p.kill('SIGKILL')
  await Promise.all(hog.map((p) => p.catch(() => undefined)))
}

interface Kill {
  victim: string
  /** The survivor's own figure: its monotonic clock at the verdict minus (last status + dt). */
  daemonLateMs: number
  /** Outside view: survivor's log line read by us minus (observer's last status from the victim + dt). */
  observerLateMs: number | undefined
}

const DEATH_RE = /node (\S+): declared dead (-?[\d.]+) ms past its deadline/

async function killOnce(pair: TsPair, victim: PairMember, survivor: PairMember, deadtimeMs: number): Promise<Kill> {
  const ts = survivor.ts
  if (!ts) throw new Error(`${survivor.name} is not running`)
  const from = ts.proc.lines.length
  await pair.kill(victim)
  const line = await ts.proc.waitForLine(DEATH_RE, deadtimeMs + 10_000, from)
  const m = DEATH_RE.exec(line.text)
  if (!m || m[1] !== victim.name) throw new Error(`unexpected death line: ${line.text}`)
  const last = pair.lastStatusHeard(victim.name, line.atMs)
  return {
    victim: victim.name,
    daemonLateMs: Number(m[2]),
    observerLateMs: last ? line.atMs - (last.atMs + last.dtMs) : undefined,
  }
}

function deadtimeMsOf(t: Timers): number {
  const m = /^(\d+)(ms)?$/.exec(t.deadtime)
  if (!m) throw new Error(`bench deadtime ${t.deadtime}: use N or Nms`)
  return m[2] === 'ms' ? Number(m[1]) : Number(m[1]) * 1000
}

/** Lines since `from` in either daemon's output that say a node died or a heartbeat came late. */
function countTrouble(pair: TsPair, from: readonly number[]): { deaths: number; late: number } {
  let deaths = 0
  let late = 0
  pair.members.forEach((m, i) => {
    for (const l of (m.ts?.proc.lines ?? []).slice(from[i] ?? 0)) {
      if (/: is dead$/.test(l.text)) deaths++
      if (/Late heartbeat/.test(l.text)) late++
    }
  })
  return { deaths, late }
}

const fmt = (ms: number | undefined): string => (ms === undefined || !Number.isFinite(ms) ? '-' : `${ms.toFixed(1)} ms`)

async function runSetting(pair: TsPair, s: Setting): Promise<void> {
  const deadtimeMs = deadtimeMsOf(s.timers)
  // The hog outlives the whole setting even at its slowest (a minute for start-up and kills).
  const hog = s.loaded ? startHog(s.steadyMs + KILLS * 20_000 + 60_000) : []
  try {
    const load = loadavg()[0]?.toFixed(2) ?? '?'
    await pair.restartWith(s.timers, 40_000)
    let steady = ''
    if (s.steadyMs > 0) {
      const from = pair.members.map((m) => m.ts?.proc.lines.length ?? 0)
      await new Promise((r) => setTimeout(r, s.steadyMs))
      const t = countTrouble(pair, from)
      steady = `  steady ${(s.steadyMs / 1000).toFixed(0)} s: false deaths ${t.deaths}, late-heartbeat warnings ${t.late}\n`
    }
    const kills: Kill[] = []
    for (let i = 0; i < KILLS; i++) {
      const [a, b] = pair.members
      const victim = i % 2 === 0 ? b : a
      const survivor = i % 2 === 0 ? a : b
      kills.push(await killOnce(pair, victim, survivor, deadtimeMs))
      const from = survivor.ts?.proc.lines.length ?? 0
      await pair.start(victim)
      await Promise.all([pair.waitSeesActive(survivor, victim, from, 40_000), pair.waitSeesActive(victim, survivor, 0, 40_000)])
    }
    const own = medianAndWorst(kills.map((k) => k.daemonLateMs))
    const seen = medianAndWorst(kills.flatMap((k) => (k.observerLateMs === undefined ? [] : [k.observerLateMs])))
    process.stdout.write(
      `${s.label} (load average ${load} at start${s.loaded ? `, ${availableParallelism()} busy loops` : ''})\n` +
        steady +
        `  ${kills.length} kills: lateness past the deadline, daemon's own clock  median ${fmt(own.median)}  worst ${fmt(own.worst)}\n` +
        `  ${' '.repeat(String(kills.length).length + 7)}` +
        (Number.isNaN(seen.median) ? 'no packet observer on this pair\n' : `observer's last status + dt to log line  median ${fmt(seen.median)}  worst ${fmt(seen.worst)}\n`) +
        `  each (daemon's own): ${kills.map((k) => k.daemonLateMs.toFixed(1)).join(', ')} ms\n`,
    )
  } finally {
    await stopHog(hog)
  }
}

export async function run(): Promise<void> {
  const pair = await buildTsPair('bmemb')
  try {
    process.stdout.write(`${pair.where}; SIGKILL of one, ${KILLS} kills per setting\n`)
    for (const s of settings) await runSetting(pair, s)
  } finally {
    await pair.destroy()
  }
}
