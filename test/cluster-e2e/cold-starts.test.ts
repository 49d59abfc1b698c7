// 50 cold starts of the seed pair with fast timers (keepalive 200ms, deadtime 1): each must end with exactly
// one VIP owner (heartbeat 3.0.6 took none in 1 of 20 on this machine).

import t from 'tap'
import { gate, netnsAvailability, waitFor } from '../netns/kit.js'
import type { SeedNode } from '../netns/seed-node.js'
import { retimed, withCluster } from './scenario-helpers.js'

const availability = await netnsAvailability()

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

