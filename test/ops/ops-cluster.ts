// Ops test helpers: a seed pair with `auto_failback on`, the VIP plus a harmless script as its one
// group, and the admin's commands (hbctl, cl_status, hb_standby) run inside a node's namespaces.

import type { Test } from 'tap'
import { distFile, waitFor, type ExecResult, type Host } from '../netns/kit.js'
import { buildPair, startNode, waitBothActive, type Impl, type Pair } from '../interop/pair-scenario.js'
import { SEED_NODENAME, seedFile } from '../netns/seed-node.js'
import type { ClusterStatus } from '../../lib/control/cluster-status.js'

export const T5 = SEED_NODENAME.titanic5
export const T6 = SEED_NODENAME.titanic6
/** The seed's VIP (haresources' first resource, the group key). */
export const VIP = '129.254.203.149'

/** A harmless resource in resource.d: an LSB-ish script whose state is a file in /run (gone on "reboot"). */
export const STUB = [
  '#!/bin/sh',
  '# harmless resource for the ops tests: records calls, answers status like an LSB script',
  'echo "$(date +%s%3N) hbopsstub $*" >> /var/log/hbopsstub.calls',
  'case "$1" in',
  '  start) touch /run/hbopsstub.on ;;',
  '  stop) rm -f /run/hbopsstub.on ;;',
  '  status) if [ -e /run/hbopsstub.on ]; then echo "hbopsstub is running"; else echo "hbopsstub is stopped"; fi ;;',
  'esac',
  'exit 0',
  '',
].join('\n')

/** The seed ha.cf with `auto_failback on` added, as the captures' `*-on-*` scenarios did. */
export async function seedHaCfAutoFailbackOn(): Promise<string> {
  return `${await seedFile('titanic5', 'ha.cf')}auto_failback on\n`
}

/** The seed pair (ha.cf + auto_failback on, sha1 authkeys), haresources = the VIP and the stub, both started. */
export async function startOpsPair(t: Test, prefix: string, impl: Record<'titanic5' | 'titanic6', Impl>): Promise<Pair> {
  const pair = await buildPair(t, { prefix, auth: 'sha1', impl, haCf: await seedHaCfAutoFailbackOn() })
  for (const n of [pair.nodes.titanic5, pair.nodes.titanic6]) {
    await n.host.writeFile('etc/ha.d/haresources', `${T5}  ${VIP}  hbopsstub\n`)
    await n.host.writeFile('etc/ha.d/resource.d/hbopsstub', STUB, 0o755)
  }
  await startNode(pair.nodes.titanic5)
  await new Promise((r) => setTimeout(r, 1500))
  await startNode(pair.nodes.titanic6)
  await waitBothActive(pair, 40_000)
  return pair
}

async function nodeCli(host: Host, file: string, args: readonly string[]): Promise<ExecResult> {
  const js = await distFile(file)
  // NO_COLOR and a pipe: the plain text an admin's script would see.
  return host.exec([process.execPath, js, ...args], { env: { NO_COLOR: '1' }, timeoutMs: 15_000 })
}

export function hbctl(host: Host, args: readonly string[]): Promise<ExecResult> {
  return nodeCli(host, 'lib/cli/hbctl.js', args)
}

export function ourClStatus(host: Host, args: readonly string[]): Promise<ExecResult> {
  return nodeCli(host, 'lib/cli/cl-status.js', args)
}

/** `hbctl status --json` on a heartbeat-ts node. */
export async function statusJson(host: Host): Promise<ClusterStatus> {
  const r = await hbctl(host, ['status', '--json'])
  if (r.exitCode !== 0) throw new Error(`hbctl status --json on ${host.hostname}: exit ${r.exitCode}: ${r.stderr}`)
  return JSON.parse(r.stdout) as ClusterStatus
}

/** Does this host carry the VIP on eth0 (the group's real holder)? */
export async function hasVip(host: Host): Promise<boolean> {
  const r = await host.exec(['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])
  return r.stdout.split('\n').some((l) => l.includes(` ${VIP}/`))
}

/** The stub's own state: is it started on this host? */
export async function stubRunning(host: Host): Promise<boolean> {
  const r = await host.exec(['test', '-e', '/run/hbopsstub.on'])
  return r.exitCode === 0
}

/** Wait until exactly `holder`'s host carries the VIP and runs the stub, and no other host does. */
export async function waitForHolder(pair: Pair, holder: 'titanic5' | 'titanic6', timeoutMs: number): Promise<void> {
  const other = holder === 'titanic5' ? 'titanic6' : 'titanic5'
  await waitFor(
    `${SEED_NODENAME[holder]} alone to hold ${VIP} and the stub`,
    async () => {
      const h = pair.nodes[holder].host
      const o = pair.nodes[other].host
      return (await hasVip(h)) && (await stubRunning(h)) && !(await hasVip(o)) && !(await stubRunning(o)) ? true : undefined
    },
    timeoutMs,
    300,
  )
}

/** The generation a node wrote into its hb_generation (3.0.6 format: right-aligned number). */
export async function fileGeneration(host: Host): Promise<number> {
  return Number.parseInt((await host.readFile('var/lib/heartbeat/hb_generation')).toString('latin1').trim(), 10)
}
