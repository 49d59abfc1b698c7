// Joining, message by message: links up after a status from every node, reqnodes, comm-up on the answer; an answer nobody asked for changes nothing.
import t from 'tap'
import { lone, transmitted } from './lone-core.js'
import { typeOf } from './sim.js'
import { repnodesMessage, statusMessage } from '../../lib/cluster/protocol-messages.js'

t.test('starting -> asking-nodes -> up: reqnodes to the first live peer, comm-up on its repnodes', async (t) => {
  const { core, env, fromBeta } = lone()
  core.start(0, env)
  t.same([core.snapshot().commPhase, core.snapshot().commState, core.snapshot().commUp], ['starting', 'starting', false])
  const out = core.receive(fromBeta(statusMessage('active', 5000, true)), 'eth0', 100, env)
  t.ok(transmitted(out).some((a) => typeOf(a.msg) === 'reqnodes'), 'asked beta for the node list')
  t.same([core.snapshot().commPhase, core.snapshot().commState, core.snapshot().commUp], ['asking-nodes', 'links-up', false])
  t.equal(core.nextDeadline(), 1000, 'the keepalive is next (the reqnodes retry at 1100 after it)')
  const retry = core.tick(1100, env)
  t.ok(transmitted(retry).some((a) => typeOf(a.msg) === 'reqnodes'), 'reqnodes again after 1 s')
  const up = core.receive(fromBeta(repnodesMessage('alpha', ['alpha', 'beta'], [])), 'eth0', 1200, env)
  t.ok(up.some((a) => a.type === 'comm-up'), 'comm up')
  t.same([core.snapshot().commPhase, core.snapshot().commUp, core.snapshot().localStatus], ['up', true, 'active'])
})

t.test('a repnodes before links are up (not asked for: a stray answer or a replay) does not bring communication up', async (t) => {
  const { core, env, fromBeta } = lone()
  core.start(0, env)
  const out = core.receive(fromBeta(repnodesMessage('alpha', ['alpha', 'beta'], [])), 'eth0', 100, env)
  t.notOk(out.some((a) => a.type === 'comm-up'), 'no comm-up')
  t.equal(core.snapshot().commPhase, 'starting', 'still waiting to hear a status from beta')
  t.equal(core.snapshot().localStatus, 'up')
  const status = core.receive(fromBeta(statusMessage('active', 5000, true)), 'eth0', 200, env)
  t.ok(transmitted(status).some((a) => typeOf(a.msg) === 'reqnodes'), "beta's status brings links up: now we ask")
})
