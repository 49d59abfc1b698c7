// The seed cluster end to end in namespaces (issue 4 "Must show"): VIP on titanic5 eth0:0 with titanic6
// silent on lo:0, crash failover with the client's ARP entry moving, failback, the lvs table, mixed pairs,
// cold starts with fast timers, standby/takeover, a failing and a hanging resource.

import t, { type Test } from 'tap'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gate, netnsAvailability, realHeartbeatAvailability, repoRoot, waitFor, type Proc } from '../netns/kit.js'
import type { SeedNode } from '../netns/seed-node.js'
import { buildSeedCluster, seedScriptTable, VIP, type SeedCluster, type SeedClusterOptions } from './seed-cluster.js'

const availability = await netnsAvailability()

/** The first prober line at or after `fromMs` answered by `node`. */
function firstAnswer(p: Proc, node: string, fromMs: number): number | undefined {
  for (const l of p.lines) {
    const [ms, answer] = l.text.split(' ')
    if (Number(ms) >= fromMs && answer === node) return Number(ms)
  }
  return undefined
}

async function waitOwner(c: SeedCluster, seed: SeedNode, timeoutMs: number): Promise<void> {
  await waitFor(`${seed} owns ${VIP} alone`, async () => {
    const o = await c.owners()
    return o.length === 1 && o[0] === seed ? true : undefined
  }, timeoutMs, 100)
}

async function withCluster(tt: Test, opts: SeedClusterOptions, body: (c: SeedCluster) => Promise<void>): Promise<void> {
  const c = await buildSeedCluster(opts)
  tt.teardown(() => c.destroy())
  try {
    await body(c)
  } catch (err) {
    for (const seed of ['titanic5', 'titanic6'] as const) {
      const d = c.directors[seed]
      const tail = d.daemon ? d.daemon.lines.slice(-40).map((l) => l.text) : (await c.haLog(seed)).split('\n').slice(-40)
      tt.comment(`--- ${seed} (${d.impl}) last lines ---\n${tail.join('\n')}`)
    }
    throw err
  }
}

t.test('seed cluster: titanic5 serves, titanic6 silent on lo:0; crash, failback, lvs table', async (tt) => {
  if (!gate(tt, availability)) return
  await withCluster(tt, { prefix: 'sceseed' }, async (c) => {
    const t5 = c.directors.titanic5
    const t6 = c.directors.titanic6
    await c.start('titanic5')
    await c.start('titanic6')
    // Seed timers: keepalive 2 s, deadtime 5 s; titanic5 (the preferred node) takes the group.
    await waitOwner(c, 'titanic5', 60_000)
    tt.same(await c.vipLabels('titanic5'), ['eth0:0'], 'the VIP is on titanic5 eth0:0')
    tt.same(await c.vipLabels('titanic6'), ['lo:0'], 'titanic6 keeps the VIP on lo:0 (real server 1)')
    const expected = await seedScriptTable(join(tmpdir(), `sceseed-table-${process.pid}.json`))
    await waitFor('lvs table on titanic5', async () => ((await c.ipvsSave('titanic5')) === expected ? true : undefined), 20_000, 200)
    tt.equal(await c.ipvsSave('titanic5'), expected, "titanic5's lvs table equals the seed script's (ipvsadm -S -n)")
    tt.equal(await c.ipvsSave('titanic6'), '', 'titanic6 has no lvs table while it is a real server')
    tt.equal(await c.httpGet(), 'titanic5', "the client's HTTP request to the VIP reaches titanic5")
    const macs = await c.arpingMacs(3)
    tt.ok(macs.length >= 1, `arping from the client got ${macs.length} replies`)
    tt.same([...new Set(macs)], [t5.mac], `every ARP reply for the VIP comes from titanic5's MAC ${t5.mac}, none from titanic6's ${t6.mac}`)
    tt.equal(await c.clientNeighMac(), t5.mac, "the client's ARP entry for the VIP is titanic5's MAC")

    // Crash titanic5: SIGKILL and cable pulled.
    const prober = await c.startProber(20, 200)
    const crashAt = await c.crash('titanic5')
    const answeredAt = await waitFor('titanic6 answers on the VIP', async () => firstAnswer(prober, 'titanic6', crashAt), 30_000, 50)
    const deadtimeMs = 5000
    tt.comment(`crash → first HTTP answer from titanic6: ${answeredAt - crashAt} ms (deadtime ${deadtimeMs} ms)`)
    tt.ok(answeredAt - crashAt >= deadtimeMs - 2000, `titanic6 waited for the deadtime before taking over (${answeredAt - crashAt} ms)`)
    tt.same(await c.vipLabels('titanic6'), ['eth0:0'], 'titanic6 dropped lo:0 and raised eth0:0')
    await waitFor("client's ARP entry moves to titanic6", async () => ((await c.clientNeighMac()) === t6.mac ? true : undefined), 10_000, 100)
    tt.equal(await c.clientNeighMac(), t6.mac, "the client's ARP entry for the VIP moved to titanic6's MAC")
    tt.equal(await c.httpGet(), 'titanic6', 'HTTP on the VIP is answered by titanic6')
    await waitFor('lvs table on titanic6', async () => ((await c.ipvsSave('titanic6')) === expected ? true : undefined), 20_000, 200)
    tt.equal(await c.ipvsSave('titanic6'), expected, "the lvs table titanic6 built on takeover equals the seed script's")
    prober.kill('SIGTERM')

    // titanic5 comes back. The seed's ha.cf has no auto_failback: legacy, i.e. the VIP fails back.
    await c.reboot('titanic5')
    const backProber = await c.startProber(20, 200)
    const rebootAt = Date.now()
    await c.start('titanic5')
    await waitOwner(c, 'titanic5', 60_000)
    const backAt = await waitFor('titanic5 answers again', async () => firstAnswer(backProber, 'titanic5', rebootAt), 30_000, 50)
    tt.comment(`titanic5 start → VIP answered by titanic5 again: ${backAt - rebootAt} ms`)
    backProber.kill('SIGTERM')
    tt.same(await c.vipLabels('titanic5'), ['eth0:0'], 'legacy auto_failback: the VIP failed back to titanic5 eth0:0')
    tt.same(await c.vipLabels('titanic6'), ['lo:0'], 'titanic6 gave the VIP back and holds it on lo:0 again')
    tt.equal(await c.ipvsSave('titanic6'), '', "titanic6's lvs table is empty after release")
    const after = await c.arpingMacs(3)
    tt.same([...new Set(after)], [t5.mac], "after failback every ARP reply is titanic5's again: titanic6 is silent")
    tt.equal(await c.httpGet(), 'titanic5', 'HTTP on the VIP is answered by titanic5 after failback')

    // Graceful stop of titanic6 keeps its real-server role: the VIP stays on lo:0.
    await c.stop('titanic6')
    tt.same(await c.vipLabels('titanic6'), ['lo:0'], 'after titanic6 stops, the VIP is still on its lo:0')
  })
})

/** ha.cf with the seed's timers replaced (and optionally a line added), everything else verbatim. */
function retimed(keepalive: string, deadtime: string, extra = ''): (node: SeedNode, text: string) => string {
  return (_node, text) =>
    text.replace(/^keepalive\s+\S+/m, `keepalive ${keepalive}`).replace(/^deadtime\s+\S+/m, `deadtime ${deadtime}`) + (extra === '' ? '' : `${extra}\n`)
}

const realAvailability = await realHeartbeatAvailability()

for (const [realSeed, tsSeed] of [['titanic5', 'titanic6'], ['titanic6', 'titanic5']] as const) {
  t.test(`mixed pair: ${realSeed} runs heartbeat 3.0.6 with Debian's IPaddr, ${tsSeed} runs heartbeat-ts`, async (tt) => {
    if (!gate(tt, realAvailability)) return
    // Debian's IPaddr (OCF IPaddr through the legacy wrapper) treats a VIP on lo:0 as "already running"
    // unless lvs_support is on; the seed edited the script instead. OCF_RESKEY_lvs_support reaches it
    // through heartbeat's environment, unchanged files.
    await withCluster(tt, { prefix: `scemix${realSeed === 'titanic5' ? 'a' : 'b'}`, impl: { [realSeed]: 'real', [tsSeed]: 'ts' }, env: { OCF_RESKEY_lvs_support: 'true' } }, async (c) => {
      const t5 = c.directors.titanic5
      const t6 = c.directors.titanic6
      await c.start('titanic5')
      await c.start('titanic6')
      await waitOwner(c, 'titanic5', 60_000)
      tt.same(await c.vipLabels('titanic5'), ['eth0:0'], `titanic5 (${t5.impl}) holds the VIP on eth0:0`)
      tt.same(await c.vipLabels('titanic6'), ['lo:0'], `titanic6 (${t6.impl}) keeps it on lo:0`)
      tt.equal(await c.httpGet(), 'titanic5', 'HTTP on the VIP reaches titanic5')
      tt.same([...new Set(await c.arpingMacs(2))], [t5.mac], "only titanic5's MAC answers ARP for the VIP")

      const prober = await c.startProber(20, 200)
      const crashAt = await c.crash('titanic5')
      const answeredAt = await waitFor('titanic6 answers on the VIP', async () => firstAnswer(prober, 'titanic6', crashAt), 40_000, 50)
      prober.kill('SIGTERM')
      tt.comment(`${t6.impl} titanic6 after ${t5.impl} titanic5 crashed: first answer ${answeredAt - crashAt} ms (deadtime 5000 ms)`)
      await waitFor('titanic6 eth0:0', async () => ((await c.vipLabels('titanic6')).includes('eth0:0') ? true : undefined), 10_000, 100)
      const labels = await c.vipLabels('titanic6')
      tt.ok(labels.includes('eth0:0'), `titanic6 raised eth0:0 (${labels.join(', ')})`)
      // Ours moves the address off lo; Debian's IPaddr (lvs_support) adds eth0:0 and leaves lo:0 as it was.
      if (t6.impl === 'ts') tt.same(labels, ['eth0:0'], 'heartbeat-ts took the VIP off lo:0 first')
      await waitFor("client's ARP entry moves to titanic6", async () => ((await c.clientNeighMac()) === t6.mac ? true : undefined), 10_000, 100)
      tt.equal(await c.clientNeighMac(), t6.mac, "the client's ARP entry for the VIP moved to titanic6's MAC")
      tt.equal(await c.httpGet(), 'titanic6', 'HTTP on the VIP is answered by titanic6')
      const expected = await seedScriptTable(join(tmpdir(), `scemix-table-${process.pid}.json`))
      await waitFor('lvs table on titanic6', async () => ((await c.ipvsSave('titanic6')) === expected ? true : undefined), 20_000, 200)
      tt.equal(await c.ipvsSave('titanic6'), expected, "titanic6's lvs table equals the seed script's")

      await c.reboot('titanic5')
      await c.start('titanic5')
      await waitOwner(c, 'titanic5', 60_000)
      await waitFor('titanic6 back to lo:0 only', async () => ((await c.vipLabels('titanic6')).join() === 'lo:0' ? true : undefined), 20_000, 200)
      tt.same(await c.vipLabels('titanic6'), ['lo:0'], 'legacy failback: titanic6 holds the VIP on lo:0 only again')
      tt.equal(await c.ipvsSave('titanic6'), '', "titanic6's lvs table is empty after release")
      tt.same([...new Set(await c.arpingMacs(2))], [t5.mac], 'titanic6 is silent on ARP again')
      tt.equal(await c.httpGet(), 'titanic5', 'HTTP on the VIP reaches titanic5 again')
    })
  })
}

t.test('cold starts with fast timers (keepalive 200ms, deadtime 1): exactly one VIP owner every time', async (tt) => {
  if (!gate(tt, availability)) return
  await withCluster(tt, { prefix: 'scecold', realServers: false, haCf: retimed('200ms', '1') }, async (c) => {
    const budgetMs = 240_000
    const wanted = 50
    const began = Date.now()
    const endedWith: string[] = []
    const bad: string[] = []
    for (let i = 0; i < wanted && Date.now() - began < budgetMs; i++) {
      // Both daemons from cold at the same moment.
      await Promise.all([c.start('titanic5'), c.start('titanic6')])
      let owners: SeedNode[] = []
      try {
        await waitFor('an owner', async () => ((owners = await c.owners()).length > 0 ? true : undefined), 15_000, 50)
      } catch {
        owners = []
      }
      // Past any hand-over in flight: two deadtimes.
      await new Promise((r) => setTimeout(r, 2000))
      owners = await c.owners()
      endedWith.push(owners.join('+') || 'none')
      if (owners.length !== 1) bad.push(`start ${i + 1}: owners ${owners.join('+') || 'none'}`)
      else if (owners[0] === 'titanic6' && (await c.vipLabels('titanic5')).length > 0) bad.push(`start ${i + 1}: titanic5 kept a VIP copy`)
      for (const seed of ['titanic5', 'titanic6'] as const) {
        await c.crash(seed)
        await c.reboot(seed)
      }
    }
    const count = endedWith.length
    const tally = [...new Set(endedWith)].map((k) => `${k} ${endedWith.filter((x) => x === k).length}`).join(', ')
    tt.comment(`${count} cold starts in ${Math.round((Date.now() - began) / 1000)} s: ${tally}`)
    if (count < wanted) tt.comment(`only ${count} of ${wanted} cold starts fit in ${budgetMs / 1000} s on this machine`)
    tt.ok(count >= 10, `${count} cold starts ran`)
    tt.same(bad, [], `every one of ${count} cold starts ended with exactly one VIP owner`)
  })
})

/** Run hbctl inside a director, as an admin on that node would. */
async function hbctl(c: SeedCluster, seed: SeedNode, ...args: string[]): Promise<{ exitCode: number; out: string }> {
  const cli = join(repoRoot, 'dist', 'lib', 'cli', 'hbctl.js')
  const r = await c.directors[seed].host.exec([process.execPath, cli, ...args], { env: c.envFor(seed), timeoutMs: 30_000 })
  return { exitCode: r.exitCode, out: `${r.stdout}${r.stderr}`.trim() }
}

/** No half-configured VIP: the non-owner has it on lo:0 only (titanic6) or not at all (titanic5), and no lvs table. */
async function noHalfVip(tt: Test, c: SeedCluster, owner: SeedNode | undefined, what: string): Promise<void> {
  for (const seed of ['titanic5', 'titanic6'] as const) {
    if (seed === owner) continue
    tt.same(await c.vipLabels(seed), seed === 'titanic6' ? ['lo:0'] : [], `${what}: ${seed} has no VIP on eth0${seed === 'titanic6' ? ' (lo:0 only)' : ''}`)
    tt.equal(await c.ipvsSave(seed), '', `${what}: ${seed} has no lvs table`)
  }
}

t.test('standby and takeover both ways (auto_failback on), with no half-configured VIP', async (tt) => {
  if (!gate(tt, availability)) return
  await withCluster(tt, { prefix: 'scestby', realServers: false, haCf: retimed('500ms', '2', 'auto_failback on') }, async (c) => {
    await c.start('titanic5')
    await c.start('titanic6')
    await waitOwner(c, 'titanic5', 60_000)
    const steps: Array<[SeedNode, 'standby' | 'takeover', SeedNode]> = [
      ['titanic5', 'standby', 'titanic6'],
      ['titanic6', 'standby', 'titanic5'],
      ['titanic6', 'takeover', 'titanic6'],
      ['titanic5', 'takeover', 'titanic5'],
    ]
    for (const [on, verb, to] of steps) {
      // heartbeat ignores a standby/takeover while the other side is in flux ("Other side is in
      // flux"): an admin waits for both nodes to report a settled rscstatus, and so do we.
      await waitFor('both nodes settled', async () => {
        for (const seed of ['titanic5', 'titanic6'] as const) {
          const r = await hbctl(c, seed, 'cl_status', 'rscstatus')
          if (r.exitCode !== 0 || r.out === 'transition') return undefined
        }
        return true
      }, 30_000, 200)
      await new Promise((r) => setTimeout(r, 1000))
      const prober = await c.startProber(10, 200)
      const at = Date.now()
      const r = await hbctl(c, on, verb)
      tt.equal(r.exitCode, 0, `hbctl ${verb} on ${on} accepted: ${r.out}`)
      const answeredAt = await waitFor(`${to} answers after ${verb} on ${on}`, async () => firstAnswer(prober, to, at), 30_000, 50)
      prober.kill('SIGTERM')
      await waitOwner(c, to, 20_000)
      tt.comment(`hbctl ${verb} on ${on} → VIP answered by ${to}: ${answeredAt - at} ms`)
      tt.same(await c.vipLabels(to), ['eth0:0'], `after ${verb} on ${on}: ${to} holds the VIP on eth0:0`)
      await noHalfVip(tt, c, to, `after ${verb} on ${on}`)
    }
  })
})

/** A legacy resource script that misbehaves on titanic5 only (so the group has somewhere to go). */
function misbehaving(kind: 'fails' | 'hangs'): string {
  const start = kind === 'fails' ? 'echo "cannot start" >&2; exit 1' : 'exec sleep 600'
  return [
    '#!/bin/sh',
    `# test resource: ${kind} on start on titanic5, fine elsewhere`,
    'case "$1" in',
    `  start) case "$(uname -n)" in titanic5*) ${start} ;; esac; touch /run/${kind}.on ;;`,
    `  stop) rm -f /run/${kind}.on ;;`,
    `  status) if [ -e /run/${kind}.on ]; then echo "${kind} is running"; else echo "${kind} is stopped"; fi ;;`,
    'esac',
    'exit 0',
    '',
  ].join('\n')
}

for (const kind of ['fails', 'hangs'] as const) {
  t.test(`a resource that ${kind === 'fails' ? 'fails to start' : 'hangs on start'} on titanic5: the group is given back whole`, async (tt) => {
    if (!gate(tt, availability)) return
    const haresources = `titanic5.etri.re.kr  ${VIP}    lvs ${kind}\n`
    await withCluster(
      tt,
      {
        prefix: `sce${kind}`,
        realServers: false,
        haCf: retimed('500ms', '2', 'auto_failback on'),
        haresources,
        extraFiles: { [`etc/ha.d/resource.d/${kind}`]: misbehaving(kind) },
        // A 3 s agent timeout instead of 60 s (heartbeat-ts.conf [agents] timeout_ms).
        settings: '[agents]\ntimeout_ms = 3000\n',
      },
      async (c) => {
        await c.start('titanic6')
        await c.start('titanic5')
        const t5 = c.directors.titanic5
        const t5proc = t5.daemon
        if (t5proc === undefined) throw new Error('no titanic5 daemon')
        await t5proc.waitForLine(new RegExp(kind === 'fails' ? `Giving up resources due to failure of ${kind}` : `${kind} start failed: timed out`), 60_000)
        if (kind === 'hangs') {
          const line = t5proc.lines.find((l) => /timed out after 3000 ms/.test(l.text))
          tt.ok(line, `the hanging start was stopped by its 3000 ms timeout: ${line?.text ?? 'no such line'}`)
        }
        // The group is released right to left: nothing of it stays on titanic5.
        await waitFor('titanic5 releases the VIP', async () => ((await c.vipLabels('titanic5')).length === 0 ? true : undefined), 30_000, 200)
        // heartbeat then hands the group over (hb_standby 30 s after the failure).
        await waitOwner(c, 'titanic6', 90_000)
        tt.same(await c.vipLabels('titanic6'), ['eth0:0'], 'titanic6 took the group: VIP on eth0:0')
        await noHalfVip(tt, c, 'titanic6', `after titanic5's ${kind} start`)
        if (kind === 'hangs') {
          const left = await t5.host.exec(['pgrep', '-f', 'sleep 600'])
          tt.equal(left.stdout.trim(), '', 'no hanging script is left behind on titanic5')
        }
        tt.equal(await c.httpGet(), 'titanic6', 'HTTP on the VIP is answered by titanic6')
      },
    )
  })
}
