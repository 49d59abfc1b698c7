// A cluster of one (a single `node` line in ha.cf: a director whose peer was taken out of the file, a lab box).
// heartbeat 3.0.6 under auto_failback on/off sends `starting`, nobody can answer, and it waits forever holding
// nothing (seen in namespaces with the Debian package: no address after 45 s; under legacy it takes its group
// at once). heartbeat-ts takes its own groups at comm-up instead, in every auto_failback mode.

import t from 'tap'
import type { AutoFailback } from '../../lib/resources/resource-manager.js'
import { LoneRm, T5, VIP } from './lone-rm.js'

for (const mode of ['on', 'off', 'legacy'] as const satisfies readonly AutoFailback[]) {
  t.test(`a single-node cluster under auto_failback ${mode} takes its group at comm-up`, async (t) => {
    const n = new LoneRm(mode, undefined, [T5])
    n.feed({ type: 'comm-up' }, 1000)
    n.tickAt(60_000)
    t.ok([...n.up].some((r) => r.includes(VIP)), `the service address is up (resources up: ${[...n.up].join(', ') || 'none'})`)
    t.not(n.rm.rscStatus(), 'transition', 'and cl_status rscstatus says it is settled')
    if (mode !== 'legacy') t.ok(n.logs.some((l) => /no other node in ha.cf/i.test(l)), 'the log says why it did not wait for an answer')
  })
}

t.test('two nodes in ha.cf: the lone starter still waits for its peer (no change to the pair)', async (t) => {
  const n = new LoneRm('on')
  n.feed({ type: 'comm-up' }, 1000)
  n.tickAt(5000)
  t.same([...n.up], [], 'nothing taken before the peer answers or is declared dead')
})
