// Two ResourceManagers on a fake bus with fake agents, on a virtual clock: what an admin would see.
import t from 'tap'
import { Sim, T5, T6, VIP, rng } from './rm-kit.js'
import type { SimOptions } from './rm-kit.js'

const modes = ['legacy', 'on', 'off'] as const

function coldStart(opts: SimOptions, t6At = 1500): Sim {
  const sim = new Sim(opts)
  sim.boot(T5, 0)
  sim.boot(T6, t6At)
  sim.runUntil(30_000)
  return sim
}

t.test('cold start: exactly one owner, the preferred node', async (t) => {
  for (const mode of modes) {
    const sim = coldStart({ mode })
    t.same(sim.owners(), [T5], `${mode}: the VIP runs on titanic5 only`)
    t.ok(sim.node(T5).agents.up.has('lvs'), `${mode}: lvs runs on titanic5`)
    t.equal(sim.maxOwners, 1, `${mode}: never two owners`)
    const snap = sim.node(T5).rm.snapshot()
    t.equal(snap.groups[0]?.state, 'running', `${mode}: snapshot says running`)
    t.equal(snap.groups[0]?.holder, T5, `${mode}: snapshot holder titanic5`)
    t.equal(snap.rscstatus, mode === 'legacy' ? 'none' : 'local', `${mode}: rscstatus as cl_status prints it`)
    if (mode !== 'legacy') t.equal(sim.node(T6).rm.snapshot().groups[0]?.holder, T5, `${mode}: titanic6 knows titanic5 holds it`)
  }
})

t.test('legacy: titanic5 asks with ip-request when titanic6 is already active', async (t) => {
  const sim = new Sim({ mode: 'legacy' })
  sim.boot(T6, 0)
  sim.runUntil(20_000) // titanic6 alone: titanic5 dead after initdead, titanic6 takes the group
  t.same(sim.owners(), [T6], 'titanic6 took the group of the absent titanic5')
  t.ok(sim.traffic(T6).includes(`stonith node=${T5} result=n_stnth`), 'and said so with stonith n_stnth')
  sim.boot(T5, 20_000)
  sim.runUntil(40_000)
  t.ok(sim.traffic(T5).includes(`ip-request ipaddr=${VIP}`), 'titanic5 asks nicely')
  t.ok(sim.traffic(T6).includes(`ip-request-resp ipaddr=${VIP} dest=${T5} weown=yes`), 'titanic6 gives it up and answers')
  t.same(sim.owners(), [T5], 'legacy fails back to titanic5')
  t.equal(sim.maxOwners, 1, 'never two owners')
})

t.test('crash of the owner: takeover with a stonith notice, then return per auto_failback', async (t) => {
  for (const mode of modes) {
    const sim = coldStart({ mode, deadtimeMs: 5000 })
    sim.crash(T5, 30_000)
    sim.runUntil(34_000)
    t.same(sim.owners(), [], `${mode}: nobody serves before deadtime`)
    sim.runUntil(40_000)
    t.same(sim.owners(), [T6], `${mode}: titanic6 took over after deadtime`)
    t.ok(sim.traffic(T6, 30_000).includes(`stonith node=${T5} result=n_stnth`), `${mode}: stonith n_stnth sent`)
    t.match(sim.logText(T6), /No STONITH device configured\./, `${mode}: warns like heartbeat`)
    t.match(sim.logText(T6), new RegExp(`mach_down takeover complete for node ${T5.replace(/\./g, '\\.')}\\.`), `${mode}: mach_down wording`)
    if (mode !== 'legacy') {
      t.ok(sim.traffic(T6, 30_000).includes('resource foreign info=mach_down'), `${mode}: mach_down's resource message`)
      t.equal(sim.node(T6).rm.rscStatus(), 'all', `${mode}: titanic6 rscstatus all`)
    }
    sim.boot(T5, 50_000)
    sim.runUntil(90_000)
    t.same(sim.owners(), [mode === 'off' ? T6 : T5], `${mode}: after titanic5 returns the VIP is on ${mode === 'off' ? 'titanic6' : 'titanic5'}`)
    t.equal(sim.maxOwners, 1, `${mode}: never two owners`)
    if (mode === 'on') t.ok(sim.traffic(T6, 50_000).includes('ask_resources foreign info=me'), 'on: titanic6 starts the auto-failback')
    if (mode === 'off') t.equal(sim.node(T5).rm.rscStatus(), 'none', 'off: titanic5 holds nothing')
  }
})

t.test('standby and takeover both ways (auto_failback on)', async (t) => {
  const sim = coldStart({ mode: 'on' })
  sim.event(T5, 31_000, { type: 'standby' })
  sim.runUntil(40_000)
  t.same(sim.owners(), [T6], 'hb_standby on titanic5 moves the group to titanic6')
  t.same(
    sim.traffic(T5, 31_000).slice(0, 3),
    ['ask_resources all info=me', 'resource none isstable=0 info=standby', 'ask_resources all info=done'],
    'titanic5 runs the asking side of the 3-phase protocol',
  )
  t.ok(sim.traffic(T6, 31_000).includes('ask_resources all info=other'), 'titanic6 answers other')
  t.equal(sim.node(T6).rm.rscStatus(), 'all', 'titanic6 rscstatus all')
  t.equal(sim.node(T5).rm.rscStatus(), 'none', 'titanic5 rscstatus none')

  sim.event(T5, 41_000, { type: 'takeover' })
  sim.runUntil(50_000)
  t.same(sim.owners(), [T5], 'hb_takeover on titanic5 brings it back')
  t.ok(sim.traffic(T5, 41_000).includes('hb_takeover all'), 'titanic5 sent hb_takeover')
  t.ok(sim.traffic(T6, 41_000).includes('ask_resources all info=me'), 'titanic6 ran hb_standby for it')

  sim.event(T6, 51_000, { type: 'takeover', arg: 'foreign' })
  sim.runUntil(60_000)
  t.same(sim.owners(), [T6], 'hb_takeover foreign on titanic6 takes the group titanic5 prefers')
  sim.event(T6, 61_000, { type: 'standby', arg: 'failback' })
  sim.runUntil(70_000)
  t.same(sim.owners(), [T5], 'hb_standby failback on titanic6 gives it back')
  t.equal(sim.maxOwners, 1, 'never two owners during any hand-over')
  const snap = sim.node(T5).rm.snapshot()
  t.equal(snap.groups[0]?.lastTransition?.to, 'running', 'last transition recorded')
  t.equal(snap.groups[0]?.lastTransition?.reason, 'standby takeover', 'with its reason')
})

t.test('standby is refused in legacy mode, as 3.0.6 does', async (t) => {
  const sim = coldStart({ mode: 'legacy' })
  sim.event(T5, 31_000, { type: 'standby' })
  sim.runUntil(40_000)
  t.same(sim.owners(), [T5], 'nothing moves')
  t.ok(sim.traffic(T5, 31_000).includes('ask_resources all info=me'), 'the request still goes out')
  for (const n of [T5, T6]) t.match(sim.logText(n), /Standby mode only implemented when nice_failback on/, `${n} logs the refusal`)
})

t.test('standby with no answer is cancelled after 10 s', async (t) => {
  const sim = coldStart({ mode: 'on', msgDelay: (from) => (from === T6 ? 1 : 1) })
  // titanic6 is frozen: its process no longer reacts, but it is not yet dead
  sim.event(T5, 31_000, { type: 'standby' })
  sim.at(30_999, () => {
    sim.node(T6).alive = false
  })
  sim.runUntil(33_000)
  sim.node(T6).alive = true
  sim.runUntil(42_000)
  t.match(sim.logText(T5), /No reply to standby request\.  Standby request cancelled\./, 'cancelled with heartbeat wording')
  t.same(sim.owners(), [T5], 'the group stays')
})

t.test('graceful shutdown: the peer takes over after shutdone', async (t) => {
  for (const mode of modes) {
    const sim = coldStart({ mode, deadtimeMs: 5000 })
    sim.shutdown(T5, 31_000)
    sim.runUntil(33_000)
    const out = sim.traffic(T5, 31_000)
    t.equal(out[out.length - 1], 'shutdone st=dead', `${mode}: shutdone is the last word`)
    if (mode !== 'legacy') t.equal(out[0], 'resource none isstable=0 info=shutdown', `${mode}: announced first`)
    t.same(sim.owners(), [T6], `${mode}: titanic6 took over right after shutdone`)
    t.ok(sim.node(T5).shutdownCompleteAt !== undefined, `${mode}: titanic5 completed its shutdown`)
    t.match(sim.logText(T6), /Received shutdown notice from 'titanic5\.etri\.re\.kr'\./, `${mode}: heartbeat's wording`)
    sim.runUntil(45_000)
    t.ok(sim.traffic(T6, 31_000).includes(`stonith node=${T5} result=unneeded`), `${mode}: later stonith unneeded`)
    t.equal(sim.maxOwners, 1, `${mode}: never two owners`)
    const calls = sim.node(T5).agents.calls.filter((c) => c.at >= 31_000 && c.op === 'stop').map((c) => c.text)
    t.same(calls, ['lvs', VIP], `${mode}: stopped right to left`)
  }
})

t.test('shutdown waits for running resource work', async (t) => {
  const sim = new Sim({ mode: 'on', agentDelay: () => 500 })
  sim.boot(T5, 0)
  sim.boot(T6, 100)
  sim.runUntil(11_000) // titanic5 is starting its group (slow agents)
  sim.shutdown(T5, 11_000)
  sim.runUntil(60_000)
  t.match(sim.logText(T5), /Shutdown delayed until current resource activity finishes\./, 'delayed with heartbeat wording')
  t.same(sim.owners(), [T6], 'titanic6 holds it in the end')
  t.equal(sim.maxOwners, 1, 'never two owners')
})

t.test('a failed start gives the whole group back', async (t) => {
  const sim = new Sim({ mode: 'on' })
  sim.node(T5).agents.failStart.add('lvs')
  sim.boot(T5, 0)
  sim.boot(T6, 1500)
  sim.runUntil(20_000)
  t.same(sim.owners(), [], 'the VIP that started before lvs failed is stopped again')
  const snap = sim.node(T5).rm.snapshot()
  t.equal(snap.groups[0]?.state, 'failed', 'group state failed')
  t.equal(snap.groups[0]?.holder, null, 'held by nobody')
  t.match(snap.groups[0]?.lastTransition?.reason ?? '', /start of lvs failed/, 'the reason names the resource')
  t.match(sim.logText(T5), /Giving up resources due to failure of lvs/, 'heartbeat wording')
  const t5calls = sim.node(T5).agents.calls.map((c) => `${c.op} ${c.text}`)
  t.same(
    t5calls.filter((c) => !c.startsWith('status')),
    ['start 10.99.0.149', 'start lvs', `stop lvs`, `stop ${VIP}`],
    'started left to right, then stopped right to left',
  )
  sim.runUntil(60_000)
  t.same(sim.owners(), [T6], 'hb_standby 30 s later lets titanic6 run the group')
  t.equal(sim.maxOwners, 1, 'never two owners')
})

t.test('a stop that keeps failing: the group is never reported released', async (t) => {
  const sim = coldStart({ mode: 'on' })
  sim.node(T5).agents.failStop.set('lvs', Infinity)
  sim.event(T5, 31_000, { type: 'standby' })
  sim.runUntil(200_000)
  t.same(sim.owners(), [T5], 'titanic6 never starts a second copy of the VIP')
  t.notOk(sim.traffic(T5, 31_000).includes('ask_resources all info=done'), 'no done is sent')
  const log = sim.logText(T5)
  t.match(log, /Retrying failed stop operation \[lvs\]/, 'retried like ResourceManager')
  t.match(log, /Resource STOP failure\. Reboot required!/, 'heartbeat CRIT line')
  t.match(log, /does not reboot/, 'says what heartbeat-ts does instead')
  const snap = sim.node(T5).rm.snapshot()
  t.equal(snap.groups[0]?.state, 'failed', 'group failed')
  t.equal(snap.groups[0]?.holder, T5, 'still held here')
  t.equal(snap.rscstatus, 'transition', 'rscstatus transition')
  t.ok(
    sim.node(T5).actions.some((a) => a.action.type === 'stop-failed' && a.action.group === VIP),
    'a stop-failed action for the daemon',
  )
  const stops = sim.node(T5).agents.calls.filter((c) => c.op === 'stop' && c.text === 'lvs')
  t.ok(stops.length >= 11 + 4, `stop retried 10 times at 1 s, then every 30 s (${stops.length} tries)`)

  // the admin fixes lvs: the next retry succeeds and the standby completes
  sim.node(T5).agents.failStop.delete('lvs')
  sim.runUntil(260_000)
  t.same(sim.owners(), [T6], 'after the stop succeeds titanic6 takes the group')
  t.equal(sim.maxOwners, 1, 'never two owners')
})

t.test('a stop failing a few times, or failing while status says stopped, continues', async (t) => {
  const sim = coldStart({ mode: 'on' })
  sim.node(T5).agents.failStop.set('lvs', 3)
  sim.event(T5, 31_000, { type: 'standby' })
  sim.runUntil(60_000)
  t.same(sim.owners(), [T6], 'three failures then success: hand-over completes')
  t.notMatch(sim.logText(T5), /Reboot required/, 'no CRIT')

  const sloppy = coldStart({ mode: 'on' })
  sloppy.node(T5).agents.sloppyStop.add('lvs')
  sloppy.event(T5, 31_000, { type: 'standby' })
  sloppy.runUntil(60_000)
  t.same(sloppy.owners(), [T6], 'stop exits 1 but status says stopped: hand-over completes')
  t.match(sloppy.logText(T5), /Resource script for lvs probably not LSB-compliant\./, 'with heartbeat warning')
  t.equal(sloppy.maxOwners, 1, 'never two owners')
})

t.test('50 cold starts with random interleavings end with exactly one owner', async (t) => {
  for (const mode of modes) {
    const bad: string[] = []
    for (let i = 0; i < 50; i++) {
      const seed = 1000 * (modes.indexOf(mode) + 1) + i
      const r = rng(seed)
      const sim = new Sim({
        mode,
        deadtimeMs: 1000,
        initdeadMs: 2000 + Math.floor(r() * 3000),
        msgDelay: () => 1 + Math.floor(r() * 80),
        agentDelay: () => 1 + Math.floor(r() * 300),
        commUpDelay: () => 50 + Math.floor(r() * 1500),
      })
      const first = r() < 0.5 ? T5 : T6
      sim.boot(first, 0)
      sim.boot(first === T5 ? T6 : T5, Math.floor(r() * 4000))
      sim.runUntil(60_000)
      const owners = sim.owners()
      if (owners.length !== 1 || sim.maxOwners !== 1) bad.push(`seed ${seed}: owners ${owners.join(',') || 'none'}, max ${sim.maxOwners}`)
      else if (mode !== 'off' && owners[0] !== T5) bad.push(`seed ${seed}: ${owners[0]} instead of titanic5`)
    }
    t.same(bad, [], `${mode}: 50 of 50 runs end with exactly one owner and never two at once`)
  }
})
