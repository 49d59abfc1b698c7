// Issue 12 point 5: with a STONITH device configured, a dead peer that may hold resources is reset
// before its groups are taken (hb_resource.c: Initiate_Reset, StonithProcessDied). Stories on virtual
// time: titanic6 is the backup, titanic5 holds the VIP group and dies.
import t from 'tap'
import { ResourceManager } from '../../lib/resources/resource-manager.js'
import type { AutoFailback } from '../../lib/resources/resource-manager.js'
import type { RmAction, StonithOutcome } from '../../lib/resources/rm-types.js'
import type { StonithDevice } from '../../lib/config/stonith.js'
import { messageOf } from '../../lib/wire/message.js'
import { T5, T6, VIP, describe, seedGroups } from './rm-kit.js'

const DEVICE: StonithDevice = { type: 'external/recorder', config: { kind: 'params', params: `${T5} ${T6}` }, line: 12 }

/** titanic6's resource manager; agents answer at once; resets wait for the test to answer them. */
class Backup {
  readonly rm: ResourceManager
  now = 0
  readonly up = new Set<string>()
  readonly sent: string[] = []
  readonly logs: string[] = []
  readonly resets: Array<{ at: number; id: number; node: string; device: StonithDevice }> = []

  constructor(mode: AutoFailback, stonith: StonithDevice | null = DEVICE) {
    this.rm = new ResourceManager({ me: T6, nodes: [T5, T6], groups: seedGroups(), autoFailback: mode, pid: 1, ...(stonith !== null ? { stonith } : {}) })
  }

  apply(actions: RmAction[]): void {
    for (const a of actions) {
      if (a.type === 'send') this.sent.push(describe(a.msg))
      else if (a.type === 'log') this.logs.push(`${a.level}: ${a.text}`)
      else if (a.type === 'run-stonith') this.resets.push({ at: this.now, id: a.id, node: a.node, device: a.device })
      else if (a.type === 'run-agent') {
        if (a.op === 'start') this.up.add(a.resource.text)
        if (a.op === 'stop') this.up.delete(a.resource.text)
        this.apply(this.rm.handle({ type: 'agent-result', id: a.id, ok: true, running: this.up.has(a.resource.text), exitCode: 0 }, this.now))
      }
    }
  }

  at(ms: number): this {
    this.now = ms
    return this
  }

  /** titanic5 up and holding its group, titanic6 up with nothing (each side's usual start). */
  start(mode: AutoFailback): void {
    this.apply(this.rm.handle({ type: 'node-status', node: T5, status: 'active' }, this.now))
    this.apply(this.rm.handle({ type: 'comm-up' }, this.now))
    if (mode !== 'legacy') {
      this.peer([['t', 'starting']])
      this.peer([['t', 'resource'], ['rsc_hold', 'local'], ['rtype', 'full'], ['isstable', '1']])
    }
  }

  peer(pairs: Array<[string, string]>): void {
    this.apply(this.rm.handle({ type: 'message', msg: messageOf([...pairs, ['src', T5]]) }, this.now))
  }

  status(status: string): void {
    this.apply(this.rm.handle({ type: 'node-status', node: T5, status }, this.now))
  }

  answer(outcome: StonithOutcome): void {
    const r = this.resets.at(-1)
    if (r === undefined) throw new Error('no reset to answer')
    this.apply(this.rm.handle({ type: 'stonith-result', id: r.id, node: r.node, outcome }, this.now))
  }

  /** Run the manager's timers up to `until`, as the shell's one timer would. */
  runTo(until: number): void {
    for (;;) {
      const due = this.rm.nextDeadline()
      if (due === undefined || due > until) break
      this.now = due
      this.apply(this.rm.tick(due))
    }
    this.now = until
  }

  takenOver(): boolean {
    return this.logs.some((l) => l.includes(`Resources being acquired from ${T5}`))
  }
}

for (const mode of ['legacy', 'on'] as const) {
  t.test(`${mode}: the dead peer is reset first; its group is taken only once the reset succeeded`, async (t) => {
    const b = new Backup(mode)
    b.start(mode)
    const sentBefore = b.sent.length
    b.at(10_000).status('dead')
    t.same(b.resets.map((r) => [r.node, r.device.type]), [[T5, 'external/recorder']], 'one reset of titanic5 with the configured device')
    t.ok(b.logs.includes(`info: Resetting node ${T5} with [external/recorder]`), '3.0.6 says which node and device')
    t.notOk(b.takenOver(), 'nothing taken while the reset runs')
    t.notOk(b.up.has(VIP), 'the VIP is not started yet')
    t.notOk(b.sent.slice(sentBefore).some((m) => m.startsWith('stonith')), 'no stonith message before the result')
    t.notOk(b.logs.some((l) => l.includes('No STONITH device configured')), 'a device is configured')

    b.at(13_000).answer('ok')
    t.ok(b.logs.includes(`info: node ${T5} now reset.`), 'the reset is reported')
    t.ok(b.sent.includes(`stonith node=${T5} result=OK`), 'the cluster hears t=stonith result=OK, as from 3.0.6')
    t.ok(b.takenOver(), 'then the group is taken')
    t.ok(b.up.has(VIP), 'and the VIP runs here')
    t.equal(b.resets.length, 1, 'no second reset')
  })
}

t.test('a failed reset is retried every 5 s; nothing is taken until one succeeds', async (t) => {
  const b = new Backup('legacy')
  b.start('legacy')
  b.at(10_000).status('dead')
  b.at(11_000).answer('bad')
  t.ok(b.logs.includes(`error: Host ${T5} not reset!`), '3.0.6 reports the failed reset')
  t.ok(b.logs.includes(`error: STONITH of ${T5} failed.  Retrying...`), 'and that it retries')
  t.ok(b.sent.includes(`stonith node=${T5} result=bad`), 'the cluster hears result=bad')
  t.equal(b.rm.nextDeadline(), 16_000, 'the next try is due 5 s after the failure')

  b.runTo(15_999)
  t.equal(b.resets.length, 1, 'no retry before 5 s')
  b.runTo(16_000)
  t.same(b.resets.map((r) => r.at), [10_000, 16_000], 'retried at 16 s')
  b.at(17_000).answer('badhost')
  t.ok(b.logs.includes(`error: Device external/recorder cannot reset host ${T5}.`), 'a device that cannot reset the host says so')
  t.ok(b.sent.includes(`stonith node=${T5} result=badhost`), 'the cluster hears result=badhost')
  b.runTo(22_000)
  t.same(b.resets.map((r) => r.at), [10_000, 16_000, 22_000], 'badhost is retried too, as 3.0.6 (any non-zero exit)')
  t.notOk(b.takenOver(), 'after three tries and two failures nothing is taken')
  t.notOk(b.up.has(VIP), 'the VIP is not started')

  b.at(23_000).answer('ok')
  t.ok(b.takenOver(), 'the first successful reset leads to the takeover')
  t.ok(b.up.has(VIP), 'the VIP runs here')
  t.equal(b.rm.nextDeadline(), undefined, 'no more retries pending')
})

t.test('the peer comes back while its reset is retried: no more resets, nothing taken', async (t) => {
  const b = new Backup('legacy')
  b.start('legacy')
  b.at(10_000).status('dead')
  b.at(11_000).answer('bad')
  b.at(12_000).status('active')
  t.ok(b.logs.some((l) => l.startsWith(`warn: Node ${T5} is back (status active) while being reset`)), 'says why it stops')
  t.equal(b.rm.nextDeadline(), undefined, 'no retry is pending')
  b.runTo(60_000)
  t.equal(b.resets.length, 1, 'titanic5 is not reset again')
  t.notOk(b.takenOver(), 'its group is not taken')
  t.notOk(b.up.has(VIP), 'the VIP is not started here')
})

t.test('the peer comes back while a reset runs: its late result takes nothing', async (t) => {
  const b = new Backup('legacy')
  b.start('legacy')
  b.at(10_000).status('dead')
  b.at(11_000).status('active')
  b.at(12_000).answer('ok')
  t.notOk(b.takenOver(), 'nothing taken')
  t.ok(b.logs.some((l) => l.includes('its resources are not taken')), 'the late result is logged as ignored')
  t.notOk(b.sent.some((m) => m.startsWith('stonith')), 'no stonith message for an ignored result')
})

t.test('no device configured: 3.0.6\'s warnings and result=n_stnth, then the takeover at once', async (t) => {
  const b = new Backup('legacy', null)
  b.start('legacy')
  b.at(10_000).status('dead')
  t.equal(b.resets.length, 0, 'nothing to reset with')
  t.ok(b.logs.includes('warn: No STONITH device configured.'))
  t.ok(b.logs.includes('warn: Shared disks are not protected.'))
  t.ok(b.sent.includes(`stonith node=${T5} result=n_stnth`))
  t.ok(b.takenOver())
})

t.test('a peer that gave its resources up is not reset (result=unneeded)', async (t) => {
  const b = new Backup('on')
  b.start('on')
  b.peer([['t', 'resource'], ['rsc_hold', 'none'], ['rtype', 'full'], ['isstable', '1']])
  b.at(10_000).status('dead')
  t.equal(b.resets.length, 0, 'no reset')
  t.ok(b.sent.includes(`stonith node=${T5} result=unneeded`))
})
