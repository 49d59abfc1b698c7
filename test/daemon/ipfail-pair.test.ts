// The built-in ipfail between two whole nodes (lib/daemon/node-core.ts as run.ts drives it) on virtual
// time: both ping one router; titanic5 loses its path to it, so the VIP moves to titanic6, and back
// per auto_failback when the path returns. The test plays the router: a reply per keepalive to each
// node that still reaches it.
import t from 'tap'
import { ClusterRm, T5, T6 } from '../resources/cluster-rm-kit.js'
import type { AutoFailback } from '../../lib/resources/resource-manager.js'
import type { PingNode } from '../../lib/config/ha-cf.js'

const ROUTER = '10.99.0.1'
const PING: PingNode[] = [{ kind: 'ping', name: ROUTER, line: 9 }]
const KEEPALIVE_MS = 2000
const DEADPING_MS = 10_000

/** Run to `until`, the router answering each node in `reaches` once per keepalive; records double ownership. */
function runPinging(c: ClusterRm, until: number, reaches: ReadonlySet<string>): { doubleAt: number[] } {
  const doubleAt: number[] = []
  while (c.now < until) {
    c.runUntil(Math.min(until, c.now + KEEPALIVE_MS))
    for (const n of reaches) c.event(n, { type: 'ping-reply', node: ROUTER })
    if (c.owners().length > 1) doubleAt.push(c.now)
  }
  return { doubleAt }
}

function pair(mode: AutoFailback, ipfail = true): ClusterRm {
  const c = new ClusterRm({ mode, pingNodes: PING, deadpingMs: DEADPING_MS, ipfail })
  c.start(T5)
  c.start(T6)
  runPinging(c, 30_000, new Set([T5, T6]))
  return c
}

const pingLines = (c: ClusterRm, n: string): string[] => c.node(n).logs.filter((l) => /ipfail/.test(l.text)).map((l) => l.text)

t.test('both reach the router: it is a ping node, up on both, and the VIP stays home', async (t) => {
  const c = pair('on')
  t.same(c.owners(), [T5])
  for (const n of [T5, T6]) t.same(c.snapshot(n).pingNodes.map((p) => `${p.name} ${p.status}`), [`${ROUTER} ping`], `${n}: the router answers`)
})

t.test("titanic5 loses the router: the VIP moves to titanic6; back home with auto_failback on when it returns", async (t) => {
  const c = pair('on')
  const cutAt = c.now
  let w = runPinging(c, cutAt + DEADPING_MS + 20_000, new Set([T6]))
  t.same(c.snapshot(T5).pingNodes.map((p) => p.status), ['dead'], 'titanic5: the router is dead')
  t.same(c.owners(), [T6], 'titanic6 holds the VIP')
  t.same(w.doubleAt, [], 'never on both machines')
  t.match(c.logText(T6), /ipfail: 1 ping node\(s\) up here, 0 on titanic5\.etri\.re\.kr: telling titanic5\.etri\.re\.kr we see more ping nodes/, 'titanic6 logs the counts')
  t.match(c.logText(T5), /ipfail: titanic6\.etri\.re\.kr sees more ping nodes than our 0: giving up our resources/, 'titanic5 logs why it gives up')
  t.ok(c.node(T5).events.some((e) => e.event.kind === 'request' && e.event.by === 'ipfail'), 'the standby is journaled as asked by ipfail')

  const backAt = c.now
  w = runPinging(c, backAt + 30_000, new Set([T5, T6]))
  t.same(c.owners(), [T5], 'the router answers titanic5 again: auto_failback on brings the VIP home')
  t.same(w.doubleAt, [], 'never on both machines')
  t.match(pingLines(c, T6).join('\n'), /balanced[\s\S]*giving up foreign resources \(auto_failback\)/, 'titanic6 gives the foreign group back, saying why')
})

t.test('auto_failback off: the VIP stays on titanic6 after the router returns', async (t) => {
  const c = pair('off')
  runPinging(c, c.now + DEADPING_MS + 20_000, new Set([T6]))
  t.same(c.owners(), [T6])
  runPinging(c, c.now + 30_000, new Set([T5, T6]))
  t.same(c.owners(), [T6], 'nothing moves back')
})

t.test('without ipfail, ping nodes are only watched: losing the router moves nothing', async (t) => {
  const c = pair('on', false)
  runPinging(c, c.now + DEADPING_MS + 20_000, new Set([T6]))
  t.same(c.snapshot(T5).pingNodes.map((p) => p.status), ['dead'])
  t.same(c.owners(), [T5], 'the VIP stays on titanic5')
  t.match(c.logText(T5), /Status update for node 10\.99\.0\.1: status dead \(0 of 1 ping nodes up\)/)
  const dead = c.node(T5).events.find((e) => e.event.kind === 'node-dead' && e.event.node === ROUTER)
  t.equal(dead?.event.kind === 'node-dead' ? dead.event.deadtimeMs : undefined, DEADPING_MS, 'hbctl events records the death with deadping')
})

t.test('both lose the router: balanced, nothing moves', async (t) => {
  const c = pair('on')
  runPinging(c, c.now + DEADPING_MS + 20_000, new Set())
  t.same(c.owners(), [T5])
})
