// Idle cost of the heartbeat-ts daemon: RSS (VmRSS) and CPU % (utime+stime over a window, from
// /proc/<pid>) of each node of a quiet pair, at keepalive 2 s and 200 ms. Printed, never asserted.

import { readFile } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import { execa } from 'execa'
import { buildTsPair, type Timers, type TsPair } from './ts-pair.js'

const WINDOW_MS = Number(process.env.BENCH_IDLE_MS ?? 20_000)
/** Start-up work (JIT, comm-up, V8's post-start GCs) costs ~1 % for the first ~20 s; let most of it pass. */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 10_000)

const settings: Array<{ label: string; timers: Timers }> = [
  { label: 'keepalive 2s, deadtime 5s', timers: { keepalive: '2', deadtime: '5' } },
  { label: 'keepalive 200ms, deadtime 1s', timers: { keepalive: '200ms', deadtime: '1' } },
]

interface Sample {
  /** utime + stime, clock ticks (proc(5) fields 14 and 15). */
  cpuTicks: number
  rssKb: number
  hwmKb: number
  atMs: number
}

async function sample(pid: number): Promise<Sample> {
  const stat = await readFile(`/proc/${pid}/stat`, 'latin1')
  // Fields after the parenthesised comm, which may itself hold spaces.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(rest[11])
  const stime = Number(rest[12])
  const status = await readFile(`/proc/${pid}/status`, 'latin1')
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN)
  return { cpuTicks: utime + stime, rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), atMs: performance.now() }
}

async function clockTicksPerSecond(): Promise<number> {
  const r = await execa('getconf', ['CLK_TCK'], { reject: false, timeout: 5000 })
  const n = Number(String(r.stdout).trim())
  return Number.isFinite(n) && n > 0 ? n : 100
}

async function daemonPid(pair: TsPair, i: 0 | 1): Promise<number> {
  const m = pair.members[i]
  const pid = m.ts?.proc.pid
  if (pid === undefined) throw new Error(`${m.name}: no daemon pid`)
  // nsenter execs the command in place, so the spawned pid is the node process itself (checked).
  const comm = (await readFile(`/proc/${pid}/comm`, 'latin1')).trim()
  if (comm !== 'node') throw new Error(`${m.name}: pid ${pid} is ${comm}, not the node daemon`)
  return pid
}

export async function run(): Promise<void> {
  const hz = await clockTicksPerSecond()
  const pair = await buildTsPair('bdmn')
  try {
    process.stdout.write(
      `idle, no resources: ${pair.where}; ${(WINDOW_MS / 1000).toFixed(0)} s window after ${SETTLE_MS / 1000} s settling; ` +
        `CPU from /proc/<pid>/stat at ${hz} ticks/s (resolution ${((100 * 1000) / hz / WINDOW_MS).toFixed(2)} %)\n`,
    )
    for (const s of settings) {
      await pair.restartWith(s.timers, 40_000)
      const pids = [await daemonPid(pair, 0), await daemonPid(pair, 1)]
      await new Promise((r) => setTimeout(r, SETTLE_MS))
      const before = await Promise.all(pids.map(sample))
      await new Promise((r) => setTimeout(r, WINDOW_MS))
      const after = await Promise.all(pids.map(sample))
      process.stdout.write(`${s.label}\n`)
      pair.members.forEach((m, i) => {
        const b = before[i]
        const e = after[i]
        if (!b || !e) return
        const cpuPct = (100 * (e.cpuTicks - b.cpuTicks)) / hz / ((e.atMs - b.atMs) / 1000)
        process.stdout.write(
          `  ${m.name.padEnd(20)}  RSS ${(e.rssKb / 1024).toFixed(1)} MB (peak ${(e.hwmKb / 1024).toFixed(1)} MB)  CPU ${cpuPct.toFixed(2)} %\n`,
        )
      })
    }
  } finally {
    await pair.destroy()
  }
}
