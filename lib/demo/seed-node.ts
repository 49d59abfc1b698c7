// Seed titanic5/titanic6 nodes for namespace tests: the seed ha.cf/authkeys/haresources from
// ha.d-example, auth variants as the captures used them, a harmless `lvs`, and a status probe.

import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { repoRoot, type Host } from './netns-kit.js'

export type SeedNode = 'titanic5' | 'titanic6'
export type AuthVariant = 'sha1' | 'md5' | 'crc'

export const SEED_ADDRESS: Record<SeedNode, string> = {
  titanic5: '129.254.203.145/26',
  titanic6: '129.254.203.146/26',
}
export const SEED_NODENAME: Record<SeedNode, string> = {
  titanic5: 'titanic5.etri.re.kr',
  titanic6: 'titanic6.etri.re.kr',
}

export async function seedFile(node: SeedNode, file: string): Promise<string> {
  return readFile(join(repoRoot, 'ha.d-example', node, 'ha.d', file), 'latin1')
}

/** authkeys for a method: sha1 is the seed file verbatim; md5/crc as the 3.0.6 captures used them. */
export async function authkeysFor(variant: AuthVariant): Promise<string> {
  if (variant === 'sha1') return seedFile('titanic5', 'authkeys')
  return variant === 'md5' ? 'auth 3\n3 md5 Hello!\n' : 'auth 1\n1 crc\n'
}

/**
 * Stand-in for the seed's /etc/rc.d/init.d/lvs (which needs ipvsadm and mon): records each call
 * and answers status like an LSB script, so ResourceManager can start and stop it.
 */
export const LVS_STUB = [
  '#!/bin/sh',
  '# harmless stand-in for the seed lvs init script (namespace tests)',
  'echo "$(date +%s%3N) lvs $*" >> /var/log/lvs.calls',
  'case "$1" in',
  '  start) touch /run/lvs.on ;;',
  '  stop) rm -f /run/lvs.on ;;',
  '  status) if [ -e /run/lvs.on ]; then echo "lvs is running"; else echo "lvs is stopped"; fi ;;',
  'esac',
  'exit 0',
  '',
].join('\n')

/**
 * rc.d/status with one line added in front (as the capture harness did): the ms time of every
 * status change the daemon reports, so tests can measure when the real node declared a death.
 */
export async function statusProbeScript(host: Host): Promise<string> {
  const original = (await host.readFile('etc/ha.d/rc.d/status')).toString('latin1')
  const probe = 'echo "$(date +%s%3N) $HA_src $HA_st" >> /var/log/status-events\n'
  const lines = original.split('\n')
  // Keep the #! line first.
  return [lines[0] ?? '#!/bin/sh', probe.trimEnd(), ...lines.slice(1)].join('\n')
}

/**
 * The seed haresources with its `lvs` resource renamed `lvsstub`: heartbeat-ts runs `lvs` as a
 * built-in agent that drives ipvsadm (this kernel has no IPVS), so the membership tests use a
 * script of another name; the VIP stays the seed's.
 */
export async function haresourcesFor(node: SeedNode): Promise<string> {
  return (await seedFile(node, 'haresources')).replace(/(\s)lvs(\s)/, '$1lvsstub$2')
}

export interface SeedOptions {
  auth: AuthVariant
  /** Replace the seed ha.cf (e.g. fast timers); default: the seed file verbatim. */
  haCf?: string
}

/** Write a node's /etc/ha.d for the seed cluster. */
export async function installSeedConfig(host: Host, node: SeedNode, opts: SeedOptions): Promise<void> {
  await host.writeFile('etc/ha.d/ha.cf', opts.haCf ?? (await seedFile(node, 'ha.cf')))
  await host.writeFile('etc/ha.d/authkeys', await authkeysFor(opts.auth), 0o600)
  await host.writeFile('etc/ha.d/haresources', await haresourcesFor(node))
  await host.writeFile('etc/ha.d/resource.d/lvs', LVS_STUB, 0o755)
  await host.writeFile('etc/ha.d/resource.d/lvsstub', LVS_STUB, 0o755)
  await host.writeFile('etc/ha.d/rc.d/status', await statusProbeScript(host), 0o755)
}

export interface StatusEvent {
  atMs: number
  node: string
  status: string
}

/** The status changes recorded by the probe in rc.d/status. */
export async function statusEvents(host: Host): Promise<StatusEvent[]> {
  let text = ''
  try {
    text = (await host.readFile('var/log/status-events')).toString('latin1')
  } catch {
    return []
  }
  const out: StatusEvent[] = []
  for (const line of text.split('\n')) {
    const [ms, node, status] = line.split(' ')
    if (ms && node && status) out.push({ atMs: Number(ms), node, status })
  }
  return out
}

/** The real node's /var/log/ha-log. */
export async function realLog(host: Host): Promise<string> {
  try {
    return (await host.readFile('var/log/ha-log')).toString('latin1')
  } catch {
    return ''
  }
}

/** `cl_status nodestatus <node>` on a host running the real heartbeat: the word, or undefined. */
export async function realNodeStatus(host: Host, node: string): Promise<string | undefined> {
  const r = await host.clStatus(['nodestatus', node])
  const word = r.stdout.trim()
  return word === '' ? undefined : word
}
