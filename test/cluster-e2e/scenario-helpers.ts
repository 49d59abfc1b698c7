// Shared steps of the seed-cluster scenarios: waiting for the VIP's owner, reading the prober, hbctl on a
// node, the "no half-configured VIP" check, retimed ha.cf, and a cluster torn down (with logs) per test.

import type { Test } from 'tap'
import { join } from 'node:path'
import { repoRoot, waitFor, type Proc } from '../netns/kit.js'
import type { SeedNode } from '../netns/seed-node.js'
import { buildSeedCluster, VIP, type SeedCluster, type SeedClusterOptions } from './seed-cluster.js'

/** The first prober line at or after `fromMs` answered by `node`. */
export function firstAnswer(p: Proc, node: string, fromMs: number): number | undefined {
  for (const l of p.lines) {
    const [ms, answer] = l.text.split(' ')
    if (Number(ms) >= fromMs && answer === node) return Number(ms)
  }
  return undefined
}

export async function waitOwner(c: SeedCluster, seed: SeedNode, timeoutMs: number): Promise<void> {
  await waitFor(`${seed} owns ${VIP} alone`, async () => {
    const o = await c.owners()
    return o.length === 1 && o[0] === seed ? true : undefined
  }, timeoutMs, 100)
}

export async function withCluster(tt: Test, opts: SeedClusterOptions, body: (c: SeedCluster) => Promise<void>): Promise<void> {
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

/** ha.cf with the seed's timers replaced (and optionally a line added), everything else verbatim. */
export function retimed(keepalive: string, deadtime: string, extra = ''): (node: SeedNode, text: string) => string {
  return (_node, text) =>
    text.replace(/^keepalive\s+\S+/m, `keepalive ${keepalive}`).replace(/^deadtime\s+\S+/m, `deadtime ${deadtime}`) + (extra === '' ? '' : `${extra}\n`)
}

/** Run hbctl inside a director, as an admin on that node would. */
export async function hbctl(c: SeedCluster, seed: SeedNode, ...args: string[]): Promise<{ exitCode: number; out: string }> {
  const cli = join(repoRoot, 'dist', 'lib', 'cli', 'hbctl.js')
  const r = await c.directors[seed].host.exec([process.execPath, cli, ...args], { env: c.envFor(seed), timeoutMs: 30_000 })
  return { exitCode: r.exitCode, out: `${r.stdout}${r.stderr}`.trim() }
}

/**
 * No half-configured VIP: the non-owner has it on lo:0 only (titanic6) or not at all (titanic5), and
 * no lvs table. The address is checked at once; the table is given `tableGoneMs`, because a giver
 * releases address first and deletes its table after telling the peer (heartbeat(8), "The order of a
 * graceful release"), which under load can end a moment after the owner has the VIP.
 */
export async function noHalfVip(tt: Test, c: SeedCluster, owner: SeedNode | undefined, what: string, tableGoneMs = 10_000): Promise<void> {
  for (const seed of ['titanic5', 'titanic6'] as const) {
    if (seed === owner) continue
    tt.same(await c.vipLabels(seed), seed === 'titanic6' ? ['lo:0'] : [], `${what}: ${seed} has no VIP on eth0${seed === 'titanic6' ? ' (lo:0 only)' : ''}`)
    const until = Date.now() + tableGoneMs
    let table = await c.ipvsSave(seed)
    while (table !== '' && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100))
      table = await c.ipvsSave(seed)
    }
    tt.equal(table, '', `${what}: ${seed} has no lvs table (within ${tableGoneMs} ms)`)
  }
}

