// SIGHUP (`heartbeat -r`) on a two-node heartbeat-ts cluster in namespaces, as heartbeat 3.0.6
// reacts (hb_signal.c): nothing changed → "Configuration unchanged." and a log file logrotate moved
// is reopened; only authkeys changed → the keys are re-read and the pair keeps talking through a
// key switch (new shared secret) made one node after the other; ha.cf changed → a quick restart with
// a new generation that keeps the resources: the peer sees a restart, not a death, and the VIP
// never moves.

import t from 'tap'
import type { Test } from 'tap'
import { rename } from 'node:fs/promises'
import { join } from 'node:path'
import { distFile, gate, realHeartbeatAvailability, type ExecResult, type Host } from '../netns/kit.js'
import { statusSeenBy, waitBothActive, type Pair, type PairNode } from '../interop/pair-scenario.js'
import { T5, fileGeneration, hasVip, seedHaCfAutoFailbackOn, startOpsPair, stubRunning, waitForHolder } from './ops-cluster.js'

/** The init script's reload as an admin types it: `heartbeat -r` inside the node (SIGHUP to the pidfile's pid). */
async function heartbeatR(host: Host): Promise<ExecResult> {
  const cli = await distFile('lib/cli/heartbeat.js')
  return host.exec([process.execPath, cli, '-r'], { timeoutMs: 15_000 })
}

/** Ask `n` to reload and wait for the line that says what it made of it. */
async function reloadAndExpect(t: Test, n: PairNode, expect: RegExp): Promise<void> {
  const from = n.ts?.proc.lines.length ?? 0
  const r = await heartbeatR(n.host)
  t.equal(r.exitCode, 0, `${n.name}: heartbeat -r exit 0 ${r.stderr.trim()}`)
  const line = await n.ts?.proc.waitForLine(expect, 10_000, from)
  t.ok(line, `${n.name} logged ${expect.source}`)
}

function logText(n: PairNode, sinceIndex = 0): string {
  return (n.ts?.proc.lines ?? []).slice(sinceIndex).map((l) => l.text).join('\n')
}

/** Statuses from `src` on the wire (first copy of each seq), after `sinceMs`. */
function statuses(pair: Pair, src: string, sinceMs: number): { atMs: number; seq: number; hg: number; dt: number }[] {
  const seen = new Set<string>()
  const out: { atMs: number; seq: number; hg: number; dt: number }[] = []
  for (const h of pair.obs.heard) {
    if (h.atMs < sinceMs || h.f.t !== 'status' || h.f.src !== src) continue
    const key = `${h.f.hg}/${h.f.seq}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push({ atMs: h.atMs, seq: Number.parseInt(h.f.seq ?? '', 16), hg: Number.parseInt(h.f.hg ?? '', 16), dt: Number.parseInt(h.f.dt ?? '', 16) })
  }
  return out
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? Number.NaN
}

t.test('SIGHUP as heartbeat 3.0.6: unchanged, authkeys re-read, ha.cf → quick restart keeping resources', async (t) => {
  if (!gate(t, await realHeartbeatAvailability())) return
  const pair = await startOpsPair(t, 'hbsighup', { titanic5: 'ts', titanic6: 'ts' })
  const n5 = pair.nodes.titanic5
  const n6 = pair.nodes.titanic6
  await waitForHolder(pair, 'titanic5', 40_000)
  const gen5 = await fileGeneration(n5.host)
  const gen6 = await fileGeneration(n6.host)
  const startedMs = Date.now()
  const lines5 = n5.ts?.proc.lines.length ?? 0
  const lines6 = n6.ts?.proc.lines.length ?? 0

  // The VIP must stay on titanic5 and off titanic6 through every reload: sample it all along.
  const vipSamples: { atMs: number; on5: boolean; on6: boolean }[] = []
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      vipSamples.push({ atMs: Date.now(), on5: await hasVip(n5.host), on6: await hasVip(n6.host) })
      await new Promise((r) => setTimeout(r, 400))
    }
  })()
  t.teardown(async () => {
    sampling = false
    await sampler
  })

  await t.test('(c) nothing changed: "Configuration unchanged." and a rotated log file is reopened', async (t) => {
    const logfile = join(n5.host.root, 'var/log/ha-log')
    await rename(logfile, `${logfile}.1`) // logrotate without copytruncate
    await reloadAndExpect(t, n5, /heartbeat: \[\d+\]: info: Configuration unchanged\.$/)
    const fresh = (await n5.host.readFile('var/log/ha-log')).toString('latin1')
    const rotated = (await n5.host.readFile('var/log/ha-log.1')).toString('latin1')
    t.match(fresh, /^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d titanic5\.etri\.re\.kr heartbeat: \[\d+\]: info: Configuration unchanged\.\n/, 'the new ha-log starts with the reload, in 3.0.6 line format')
    t.match(rotated, /info: Heartbeat generation: \d+\n/, 'the earlier lines stayed in the rotated file')
    t.notMatch(rotated, /Configuration unchanged/, 'nothing after the reload went to the rotated file')
    const debug = (await n5.host.readFile('var/log/ha-debug')).toString('latin1')
    t.match(debug, /info: Heartbeat generation: \d+\n(.*\n)*.*info: Configuration unchanged\.\n/, 'the debugfile, not rotated, holds the lines before and after')
    t.equal(await fileGeneration(n5.host), gen5, 'no restart: same generation')
  })

  await t.test('(a) only authkeys changed: keys re-read, a switch to a new secret on both nodes, no death', async (t) => {
    const secret = 'heartbeat-ts-new-shared-secret'
    const badPackets = (n: PairNode, from: number): number => (logText(n, from).match(/bad packet on /g) ?? []).length
    // 1. Both nodes learn key 2 while still signing with key 1: nothing may be rejected.
    const p1 = [n5.ts?.proc.lines.length ?? 0, n6.ts?.proc.lines.length ?? 0] as const
    for (const n of [n5, n6]) {
      await n.host.writeFile('etc/ha.d/authkeys', `auth 1\n1 sha1 HI!\n2 sha1 ${secret}\n`, 0o600)
      await reloadAndExpect(t, n, /info: Rereading authentication file\.$/)
    }
    t.equal(badPackets(n5, p1[0]) + badPackets(n6, p1[1]), 0, 'adding a key rejects nothing')
    // 2. Both switch to key 2, one right after the other. A 3.0.6 receiver checks a netstring
    //    trailer with its own active key (heartbeat-protocol.md §1.6b), so packets are refused
    //    both ways until the second node has switched too: that window must stay well inside
    //    the deadtime (5 s).
    const switchStart = Date.now()
    for (const n of [n5, n6]) {
      await n.host.writeFile('etc/ha.d/authkeys', `auth 2\n1 sha1 HI!\n2 sha1 ${secret}\n`, 0o600)
      await reloadAndExpect(t, n, /info: Rereading authentication file\.$/)
    }
    const windowMs = Date.now() - switchStart
    t.comment(`both nodes signed with the new key ${windowMs} ms after the first switched`)
    // 3. Longer than the deadtime, and than the 10 s between two "bad packet" lines: a node whose
    //    packets were still refused would be dead by now.
    await new Promise((r) => setTimeout(r, 11_000))
    // 4. The old key goes away: nothing may be rejected.
    const p4 = [n5.ts?.proc.lines.length ?? 0, n6.ts?.proc.lines.length ?? 0] as const
    for (const n of [n5, n6]) {
      await n.host.writeFile('etc/ha.d/authkeys', `auth 2\n2 sha1 ${secret}\n`, 0o600)
      await reloadAndExpect(t, n, /info: Rereading authentication file\.$/)
    }
    const afterMs = Date.now()
    await new Promise((r) => setTimeout(r, 6000))
    t.equal(badPackets(n5, p4[0]) + badPackets(n6, p4[1]), 0, 'removing the old key after the switch rejects nothing')
    for (const [viewer, other] of [
      [n5, n6],
      [n6, n5],
    ] as const) {
      t.notMatch(logText(viewer, viewer === n5 ? lines5 : lines6), /is dead|CRIT:/, `${viewer.name}: never declared its peer dead`)
      t.equal(await statusSeenBy(viewer, other.name), 'active', `${viewer.name} still sees ${other.name} active`)
      const heard = statuses(pair, other.name, afterMs)
      t.ok(heard.length >= 2, `${other.name} kept sending status (${heard.length} in 6 s)`)
    }
    t.equal(await fileGeneration(n5.host), gen5, 'titanic5 did not restart')
    t.equal(await fileGeneration(n6.host), gen6, 'titanic6 did not restart')
  })

  await t.test('(b) ha.cf changed: quick restart, new generation, peer sees a restart not a death, resources kept', async (t) => {
    const before = statuses(pair, T5, startedMs)
    const gaps = before.slice(1).map((s, i) => s.atMs - (before[i]?.atMs ?? s.atMs))
    t.ok(median(gaps) > 1500, `keepalive 2 s before (median gap ${median(gaps)} ms)`)
    const stubCallsBefore = (await n5.host.readFile('var/log/hbopsstub.calls')).toString('latin1')
    const from6 = n6.ts?.proc.lines.length ?? 0
    const hupMs = Date.now()

    const haCf = (await seedHaCfAutoFailbackOn()).replace(/^keepalive 2$/m, 'keepalive 1')
    t.not(haCf, await seedHaCfAutoFailbackOn(), 'the new ha.cf differs (keepalive 1)')
    await n5.host.writeFile('etc/ha.d/ha.cf', haCf)
    await reloadAndExpect(t, n5, /Restarting heartbeat/)
    await n5.ts?.proc.waitForLine(new RegExp(`Heartbeat generation: ${gen5 + 1}$`), 15_000)
    t.pass(`titanic5 restarted in-process with generation ${gen5 + 1}`)
    await waitBothActive(pair, 30_000)
    t.equal(await fileGeneration(n5.host), gen5 + 1, 'hb_generation incremented, as a restart does')

    // Let the new timers show on the wire, then judge.
    await new Promise((r) => setTimeout(r, 7000))
    const after = statuses(pair, T5, hupMs).filter((s) => s.hg === gen5 + 1)
    t.ok(after.length > 0, 'titanic5 sends status with the new generation')
    const steady = after.filter((s) => s.atMs > (after[0]?.atMs ?? 0) + 2000)
    const newGaps = steady.slice(1).map((s, i) => s.atMs - (steady[i]?.atMs ?? s.atMs))
    t.ok(median(newGaps) < 1300, `keepalive 1 s after the restart (median gap ${median(newGaps)} ms)`)
    const lastOld = statuses(pair, T5, hupMs).filter((s) => s.hg === gen5).at(-1)
    t.ok(lastOld !== undefined && lastOld.dt >= 30_000, `the last status of the old generation advertised deadtime + 30 s (dt ${lastOld?.dt} ms), as hb_add_deadtime(30000) does before a restart`)

    const peerLog = logText(n6, from6)
    t.match(peerLog, new RegExp(`info: Heartbeat restart on node ${T5.replaceAll('.', '\\.')}$`, 'm'), 'titanic6 saw a restart (a higher generation)')
    t.notMatch(peerLog, new RegExp(`node ${T5.replaceAll('.', '\\.')}: is dead`), 'titanic6 never declared titanic5 dead')
    t.notMatch(peerLog, /Resources being acquired|Taking over resource group/, 'titanic6 did not take the resources')
    t.equal(await statusSeenBy(n6, T5), 'active', 'titanic6 sees titanic5 active again')

    t.ok(await hasVip(n5.host), 'the VIP is still on titanic5')
    t.notOk(await hasVip(n6.host), 'and not on titanic6')
    t.ok(await stubRunning(n5.host), 'the stub still runs on titanic5')
    const stubCallsAfter = (await n5.host.readFile('var/log/hbopsstub.calls')).toString('latin1').slice(stubCallsBefore.length)
    t.notMatch(stubCallsAfter, /hbopsstub stop/, 'the group was not stopped by the restart')
    t.notOk(await stubRunning(n6.host), 'the stub was never started on titanic6')
  })

  sampling = false
  await sampler
  const moved = vipSamples.filter((s) => !s.on5 || s.on6)
  t.ok(vipSamples.length > 20, `${vipSamples.length} VIP samples over the reloads`)
  t.same(moved, [], 'the VIP stayed on titanic5 alone through every reload')
})
