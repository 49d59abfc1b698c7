// standby/takeover both ways under auto_failback on, a resource that fails to start and one that hangs:
// the group moves whole and no node is left with a half-configured VIP.

import t from 'tap'
import { gate, netnsAvailability, waitFor } from '../netns/kit.js'
import type { SeedNode } from '../netns/seed-node.js'
import { VIP } from './seed-cluster.js'
import { firstAnswer, hbctl, noHalfVip, retimed, waitOwner, withCluster } from './scenario-helpers.js'

const availability = await netnsAvailability()

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
