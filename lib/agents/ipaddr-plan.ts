// IPaddr's decisions as data: what start/stop/status do to the host, given its addresses and routes (pure).

import { arpSuppressionWrites, type ArpSysctls, type SysctlWrite } from './arp-suppression.js'
import { findInterface } from './find-interface.js'
import type { IpSpec } from './ip-spec.js'
import type { IfAddr, Link, Route } from './ip-state.js'

/** What the lo:0 swap remembers between takeover and release (a small JSON state file). */
export interface LoRecord {
  ip: string
  /** The label the address had on lo (`lo:0`), reused when it is put back. */
  label: string
  prefixLen: number
}

export type IpaddrStep =
  | { type: 'ip'; argv: string[]; why: string }
  | { type: 'hook'; name: 'local_takeip' | 'local_giveip'; arg: string }
  | { type: 'sysctl'; write: SysctlWrite }
  | { type: 'save-lo'; record: LoRecord }
  | { type: 'forget-lo' }
  | { type: 'arp-start'; nic: string; ip: string }
  | { type: 'arp-stop'; ip: string }

export interface HostView {
  links: readonly Link[]
  routes: readonly Route[]
  /** The swap state file's content, when a takeover moved the address off lo. */
  loRecord?: LoRecord
  arpSysctls: ArpSysctls
}

export type Plan = { ok: true; steps: IpaddrStep[]; note: string } | { ok: false; exitCode: number; message: string }

export interface Holder {
  link: Link
  addr: IfAddr
}

/** Every place the address is configured, loopback included. */
export function holders(ip: string, links: readonly Link[]): Holder[] {
  const out: Holder[] = []
  for (const link of links) for (const addr of link.addrs) if (addr.ip === ip) out.push({ link, addr })
  return out
}

/** Served = configured on a non-loopback interface; an lo copy is the real-server role, not ours (IPaddr lvs_support). */
export function servedOn(ip: string, links: readonly Link[]): Holder[] {
  return holders(ip, links).filter((h) => !h.link.loopback)
}

// ip(8): a label must be the device name or start with it followed by ':'; IFNAMSIZ-1 = 15 chars.
const MAX_LABEL = 15

/** The first free `<nic>:<n>` (n = 0, 1, …), like IPaddr's alias search; undefined when the name would be too long. */
export function freeAlias(nic: string, links: readonly Link[]): string | undefined {
  const used = new Set<string>()
  for (const link of links) for (const addr of link.addrs) used.add(addr.label)
  for (let n = 0; n < 512; n++) {
    const label = `${nic}:${n}`
    if (label.length > MAX_LABEL) return undefined
    if (!used.has(label)) return label
  }
  return undefined
}

export function planStart(spec: IpSpec, host: HostView): Plan {
  const served = servedOn(spec.ip, host.links)
  if (served.length > 0) {
    const first = served[0]
    if (first !== undefined && spec.nic !== undefined && !served.some((h) => h.link.ifname === spec.nic)) {
      // OCF IPaddr: found on a different interface than configured → generic error.
      return { ok: false, exitCode: 1, message: `${spec.ip} is running on ${first.addr.label} instead of the configured ${spec.nic}` }
    }
    // Already ours: announce it again (a node that kept the address after a healed partition must
    // win back the clients' ARP caches from the peer that also had it). 3.0.6's IPaddr does nothing.
    const nic = first?.link.ifname
    const steps: IpaddrStep[] = nic === undefined ? [] : [{ type: 'arp-stop', ip: spec.ip }, { type: 'arp-start', nic, ip: spec.ip }]
    return { ok: true, steps, note: `${spec.ip} already on ${served.map((h) => h.addr.label).join(', ')}; announced again` }
  }
  const steps: IpaddrStep[] = []
  const onLo = holders(spec.ip, host.links).filter((h) => h.link.loopback)
  // The lo:0 swap (heartbeat's lvs_support): take the real-server copy off lo first, and remember it.
  for (const h of onLo) {
    if (h.link.ifname !== 'lo') continue
    steps.push({ type: 'save-lo', record: { ip: spec.ip, label: h.addr.label, prefixLen: h.addr.prefixLen } })
    steps.push({ type: 'ip', argv: ['addr', 'del', `${spec.ip}/${h.addr.prefixLen}`, 'dev', 'lo'], why: `take ${spec.ip} off ${h.addr.label} (real-server role) before owning it` })
  }
  const found = findInterface(spec, host.links, host.routes)
  if (!found.ok) return { ok: false, exitCode: found.exitCode, message: found.message }
  const { nic, prefixLen, broadcast } = found.placement
  const label = freeAlias(nic, host.links)
  steps.push({ type: 'hook', name: 'local_takeip', arg: spec.raw })
  const argv = ['addr', 'add', `${spec.ip}/${prefixLen}`, 'brd', broadcast, 'dev', nic]
  if (label !== undefined) argv.push('label', label)
  steps.push({ type: 'ip', argv, why: `bring ${spec.ip} up on ${label ?? nic}` })
  const link = host.links.find((l) => l.ifname === nic)
  if (link !== undefined && !link.loopback) steps.push({ type: 'arp-start', nic, ip: spec.ip })
  return { ok: true, steps, note: `${spec.ip}/${prefixLen} brd ${broadcast} on ${label ?? nic}` }
}

export function planStop(spec: IpSpec, host: HostView): Plan {
  const steps: IpaddrStep[] = [{ type: 'arp-stop', ip: spec.ip }]
  const served = servedOn(spec.ip, host.links)
  if (served.length > 0) steps.push({ type: 'hook', name: 'local_giveip', arg: spec.raw })
  const notes = served.length > 0 ? [`released from ${served.map((h) => h.addr.label).join(', ')}`] : ['not held here']
  const rec = host.loRecord
  const backOnLo = rec !== undefined && rec.ip === spec.ip
  if (backOnLo && !holders(spec.ip, host.links).some((h) => h.link.ifname === 'lo')) {
    // The real-server role comes back before the address leaves eth0: a client still sending to this MAC
    // (its ARP entry is older than the new holder's announcement) is served by the LVS real server on
    // lo:0 instead of finding the address nowhere. ARP is suppressed first, so lo:0 is never answered.
    for (const write of arpSuppressionWrites(host.arpSysctls)) steps.push({ type: 'sysctl', write })
    const label = rec.label.startsWith('lo:') ? rec.label : 'lo:0'
    steps.push({ type: 'ip', argv: ['addr', 'add', `${spec.ip}/32`, 'dev', 'lo', 'label', label], why: `put ${spec.ip} back on ${label} for the real-server role` })
    notes.push(`back on ${label}`)
  }
  for (const h of served) {
    steps.push({ type: 'ip', argv: ['addr', 'del', `${spec.ip}/${h.addr.prefixLen}`, 'dev', h.link.ifname], why: `release ${spec.ip} from ${h.addr.label}` })
  }
  if (backOnLo) steps.push({ type: 'forget-lo' })
  return { ok: true, steps, note: notes.join('; ') }
}

export interface StatusAnswer {
  running: boolean
  exitCode: 0 | 7
  /** ResourceManager reads stdout: "OK"/"running" → running, "stopped" → not (heartbeat-protocol §9.2). */
  stdout: string
}

/** heartbeat 3.0.6 IPaddr wrapper wording (§11.1): `INFO:  Running OK` / `INFO:  Resource is stopped`. */
export function planStatus(spec: IpSpec, links: readonly Link[], op: 'status' | 'monitor'): StatusAnswer {
  const served = servedOn(spec.ip, links)
  // monitor also wants the carrying link up: an address on a downed interface serves nobody.
  const ok = op === 'monitor' ? served.some((h) => h.link.up) : served.length > 0
  return ok ? { running: true, exitCode: 0, stdout: 'INFO:  Running OK' } : { running: false, exitCode: 7, stdout: 'INFO:  Resource is stopped' }
}
