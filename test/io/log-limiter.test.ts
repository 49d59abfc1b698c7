// The complaint rate limiter: N lines per kind per interval, then one "N more suppressed" summary.

import t from 'tap'
import { LogLimiter, OTHER_KIND, suppressedSummary } from '../../lib/io/log-limiter.js'

t.test('a flood of one kind: N lines, then a summary with the count when the next window opens', async (t) => {
  const lim = new LogLimiter({ maxPerInterval: 3, intervalMs: 10_000 })
  const logged: number[] = []
  for (let i = 0; i < 100; i++) if (lim.admit('bad-packet', i * 10).log) logged.push(i)
  t.same(logged, [0, 1, 2], 'only the first three of a burst are logged')
  t.equal(lim.nextDeadlineMs(), 10_000)
  const next = lim.admit('bad-packet', 10_000)
  t.equal(next.log, true, 'a new window logs again')
  t.same(next.summary, { kind: 'bad-packet', count: 97, intervalMs: 10_000 })
  t.equal(suppressedSummary(next.summary!), "97 more 'bad-packet' messages suppressed in the last 10 s")
})

t.test('kinds are counted apart; due() reports ended windows without a new line', async (t) => {
  const lim = new LogLimiter({ maxPerInterval: 1, intervalMs: 1000 })
  t.ok(lim.admit('nak', 0).log)
  t.notOk(lim.admit('nak', 1).log)
  t.ok(lim.admit('unknown-node', 2).log, 'another kind has its own budget')
  t.same(lim.due(999), [], 'nothing has ended yet')
  t.same(lim.due(1000), [{ kind: 'nak', count: 1, intervalMs: 1000 }])
  t.same(lim.due(5000), [], 'reported once')
  t.equal(lim.nextDeadlineMs(), undefined)
  t.equal(suppressedSummary({ kind: 'nak', count: 1, intervalMs: 1500 }), "1 more 'nak' message suppressed in the last 1.5 s")
})

t.test('the table of kinds is bounded', async (t) => {
  const lim = new LogLimiter({ maxPerInterval: 1, intervalMs: 1000, maxKinds: 4 })
  const admitted = Array.from({ length: 1000 }, (_, i) => lim.admit(`k${i}`, 0).log).filter(Boolean).length
  t.equal(admitted, 4, 'three kinds of their own, then one shared bucket')
  const s = lim.due(1000)
  t.same(s, [{ kind: OTHER_KIND, count: 996, intervalMs: 1000 }])
})
