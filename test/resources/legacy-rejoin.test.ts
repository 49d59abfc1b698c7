// Legacy auto_failback: titanic5 back after a crash (or started late) while titanic6 holds its group asks for it (ip-request); never two owners.
import t from 'tap'
import { ClusterRm, T5, T6, VIP } from './cluster-rm-kit.js'

/** Restart phases across titanic6's 2 s keepalive, and seeds (ack triggers, delays) not picked. */
const PHASES_MS = Array.from({ length: 10 }, (_, i) => i * 200)
const SEEDS = Array.from({ length: 12 }, (_, i) => i + 1)

interface Rejoin {
  label: string
  /** Most nodes holding the VIP at one time from titanic5's start on. */
  maxOwners: number
  owners: string[]
  /** titanic5's upper-layer traffic from its start. */
  t5: string[]
  t5Log: string
  /** titanic6 logged "Releasing resource group" after titanic5's start. */
  t6Released: boolean
}

/** Run until `until`, sampling the owners every 5 ms. */
function watchOwners(c: ClusterRm, until: number): number {
  let most = 0
  while (c.now < until) {
    c.runUntil(c.now + 5)
    most = Math.max(most, c.owners().length)
  }
  return most
}

/** titanic6 holds the group (titanic5 crashed and was declared dead, or never started); then titanic5 starts. */
function rejoin(seed: number, phaseMs: number, coldT5: boolean): Rejoin {
  // status_copies 3 as the daemon runs it: adaptive, so a settled peer sends one status per keepalive
  const c = new ClusterRm({ mode: 'legacy', seed, statusCopies: 3 })
  if (!coldT5) {
    c.start(T5)
    c.runUntil(300)
  }
  c.start(T6)
  c.runUntil(30_000)
  if (!coldT5) c.crash(T5)
  c.runUntil(45_000 + phaseMs)
  if (c.owners().join() !== T6) throw new Error(`set-up: titanic6 should hold ${VIP} alone, owners ${c.owners().join()}`)
  const since = c.now
  c.start(T5)
  const maxOwners = watchOwners(c, since + 20_000)
  return {
    label: `seed ${seed}, titanic5 ${coldT5 ? 'first started' : 'restarted'} at +${phaseMs} ms`,
    maxOwners,
    owners: c.owners(),
    t5: c.traffic(T5, since),
    t5Log: c.logText(T5),
    t6Released: c.node(T6).logs.some((l) => l.at >= since && l.text.includes('Releasing resource group')),
  }
}

for (const coldT5 of [false, true]) {
  const what = coldT5 ? 'titanic5 starts for the first time while titanic6 runs alone' : 'titanic5 restarts after titanic6 took its group over'
  t.test(`legacy: ${what}: it asks for the group and ends its only owner`, async (t) => {
    const runs = SEEDS.flatMap((seed) => PHASES_MS.map((phase) => rejoin(seed, phase, coldT5)))
    const bad = runs.filter((r) => r.maxOwners > 1 || r.owners.join() !== T5 || !r.t5.some((w) => w.startsWith(`ip-request ipaddr=${VIP}`)))
    for (const r of bad.slice(0, 3)) {
      t.fail(`${r.label}: at most ${r.maxOwners} owners at once, owners at the end ${r.owners.join() || 'none'}; titanic5 sent ${r.t5.join(' | ')}`)
      t.comment(`titanic5 log:\n${r.t5Log}`)
    }
    t.equal(bad.length, 0, `${runs.length} runs (${SEEDS.length} seeds x ${PHASES_MS.length} phases of titanic6's keepalive): titanic5 sent ip-request, titanic6 released, one owner at a time`)
    // what titanic5 must not do: answer itself "weown=yes" (HA_DONTASK, "all alone") while titanic6 runs
    const alone = runs.filter((r) => r.t5.some((w) => w.startsWith('ip-request-resp') && w.includes(`dest=${T5}`) && w.includes('weown=yes')))
    t.same(alone.map((r) => r.label), [], 'titanic5 never took the group without asking')
    const released = runs.filter((r) => r.t6Released).length
    t.equal(released, runs.length, `titanic6 logged "Releasing resource group" in ${released}/${runs.length} runs`)
  })
}
