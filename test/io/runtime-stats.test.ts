// HBTS_RUNTIME_STATS: the daemon's report line carries the timer lateness it was told, GC pauses and the
// event-loop delay, and the benches can read every figure back from a log.

import t from 'tap'
import { parseRuntimeStats, runtimeStatsIntervalMs, startRuntimeStats } from '../../lib/io/runtime-stats.js'

t.test('the switch: whole seconds 1-3600, anything else leaves the stats off', async (t) => {
  t.equal(runtimeStatsIntervalMs('10'), 10_000)
  for (const v of [undefined, '', '0', '1.5', 'yes', '3601']) t.equal(runtimeStatsIntervalMs(v), undefined, `${String(v)} is off`)
})

t.test('a report line names the lateness it was told and reads back from a log', async (t) => {
  const stats = startRuntimeStats()
  t.teardown(() => stats.stop())
  stats.timerLate(2.5)
  stats.timerLate(40)
  const line = stats.report()
  t.match(line, /timer lateness p50 2\.5 ms, p99 40\.0 ms, max 40\.0 ms over 2 firings/)
  const [back] = parseRuntimeStats(`Dec 02 17:00:00 titanic5 heartbeat: [1]: info: ${line}\nother line\n`)
  t.equal(back?.lateMaxMs, 40)
  t.equal(back?.lateP99Ms, 40)
  // A new interval starts with each report: no firings told since.
  const next = parseRuntimeStats(stats.report())
  t.equal(next.length, 1, 'an interval without firings still reads back')
  t.ok(Number.isNaN(next[0]?.lateMaxMs), 'and says the timer did not fire')
})
