// Issue 10's flood, side by side: the same keyless flood (64 KB worst cases, garbage, replays of captured
// packets) against a heartbeat-ts pair and a real heartbeat 3.0.6 pair, at fast and at seed timers.
// 60 s of flood per run (FLOOD_MS); needs root, namespaces and the Debian heartbeat package. Printed, never asserted.

import { realHeartbeatAvailability } from '../test/netns/kit.js'
import { describeFlood, floodPair, type FloodReport, type FloodTimers } from '../test/netns/flood-scenario.js'
import type { Impl } from '../test/interop/pair-scenario.js'

const FLOOD_MS = Number(process.env.FLOOD_MS ?? 60_000)

const settings: Array<[string, FloodTimers]> = [
  ['fast', { keepalive: '200ms', deadtime: '1' }],
  ['seed', { keepalive: '2', deadtime: '5' }],
]

/** The bits of tap's Test that buildPair uses: teardown callbacks, run when one flood is done. */
function teardownScope(): { t: { teardown(fn: () => unknown): void }; done(): Promise<void> } {
  const fns: Array<() => unknown> = []
  return { t: { teardown: (fn) => void fns.push(fn) }, done: async () => void (await Promise.all(fns.reverse().map((f) => f()))) }
}

export async function run(): Promise<void> {
  const a = await realHeartbeatAvailability()
  if (!a.ok) {
    process.stdout.write(`flood bench skipped: ${a.reason}\n`)
    return
  }
  process.stdout.write(`keyless flood of both nodes' port 1001 for ${FLOOD_MS / 1000} s per run (one sending core); pairs in namespaces\n`)
  const reports: FloodReport[] = []
  for (const impl of ['ts', 'real'] as Impl[]) {
    for (const [label, timers] of settings) {
      const scope = teardownScope()
      try {
        const r = await floodPair(scope.t as never, { prefix: `hbbf${impl === 'ts' ? 't' : 'r'}${label}`, impl, timers, floodMs: FLOOD_MS })
        reports.push(r)
        process.stdout.write(`${describeFlood(r)}\n`)
        for (const l of r.sampleLines) process.stdout.write(`    ${l}\n`)
      } catch (err) {
        process.stdout.write(`${impl} ${label}: failed: ${err instanceof Error ? err.message : String(err)}\n`)
      } finally {
        await scope.done()
      }
    }
  }
  process.stdout.write('\nside by side                      deaths  VIP held by          log lines/s (t5, t6)  forged/s  kernel drops (t5, t6)\n')
  for (const r of reports) {
    const who = r.impl === 'ts' ? 'heartbeat-ts' : 'heartbeat 3.0.6'
    process.stdout.write(
      `${`${who}, ka ${r.timers.keepalive} dt ${r.timers.deadtime}`.padEnd(33)} ${String(r.deaths.length).padStart(6)}  ${r.vipHolders.join(', ').padEnd(20)} ${`${r.logLinesPerSec.titanic5 ?? '?'}, ${r.logLinesPerSec.titanic6 ?? '?'}`.padEnd(21)} ${String(Math.round(r.sentDatagrams / (r.floodMs / 1000))).padEnd(9)} ${r.kernelDrops.titanic5 ?? '?'}, ${r.kernelDrops.titanic6 ?? '?'}\n`,
    )
  }
}
