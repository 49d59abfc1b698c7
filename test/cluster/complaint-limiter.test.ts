// The one rate limiter for complaints about wire input (moved here from lib/io/log-limiter's tests):
// N lines per kind per window, then one "N more suppressed" summary at the most severe level held back.

import t from 'tap'
import { COMPLAINT_BURST, COMPLAINT_WINDOW_MS, ComplaintLimiter } from '../../lib/cluster/complaint-limiter.js'

t.test('a flood of one kind: a burst of lines, then a summary with the count when the next window opens', async (t) => {
  const lim = new ComplaintLimiter()
  const logged: number[] = []
  for (let i = 0; i < 100; i++) if (lim.complain('bad packet', 'error', `bad ${i}`, i * 10).length > 0) logged.push(i)
  t.same(logged, [0, 1, 2, 3, 4].slice(0, COMPLAINT_BURST), 'only the first of a burst are logged')
  t.equal(lim.nextDueMs(), COMPLAINT_WINDOW_MS)
  const next = lim.complain('bad packet', 'error', 'bad again', COMPLAINT_WINDOW_MS)
  t.same(next, [
    { level: 'error', text: `bad packet: ${100 - COMPLAINT_BURST} more suppressed in the last ${COMPLAINT_WINDOW_MS / 1000} s` },
    { level: 'error', text: 'bad again' },
  ], 'the summary comes before the first line of the new window')
})

t.test('kinds are counted apart; flush() reports ended windows without a new line', async (t) => {
  const lim = new ComplaintLimiter()
  for (let i = 0; i <= COMPLAINT_BURST; i++) lim.complain('NAK', 'error', 'nak', i)
  t.same(lim.complain('unknown node', 'error', 'who?', 2), [{ level: 'error', text: 'who?' }], 'another kind has its own budget')
  t.same(lim.flush(COMPLAINT_WINDOW_MS - 1), [], 'nothing has ended yet')
  t.same(lim.flush(COMPLAINT_WINDOW_MS), [{ level: 'error', text: `NAK: 1 more suppressed in the last ${COMPLAINT_WINDOW_MS / 1000} s` }])
  t.same(lim.flush(5 * COMPLAINT_WINDOW_MS), [], 'reported once')
  t.equal(lim.nextDueMs(), undefined)
})

t.test('the summary is logged at the most severe level held back', async (t) => {
  const lim = new ComplaintLimiter()
  for (let i = 0; i < COMPLAINT_BURST; i++) lim.complain('rexmit request', 'warn', 'w', 0)
  lim.complain('rexmit request', 'warn', 'w', 1)
  lim.complain('rexmit request', 'error', 'e', 2)
  t.same(lim.flush(COMPLAINT_WINDOW_MS), [{ level: 'error', text: `rexmit request: 2 more suppressed in the last ${COMPLAINT_WINDOW_MS / 1000} s` }])
})
