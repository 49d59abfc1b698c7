// After a split brain we gave an address up to a peer that keeps it. A heartbeat-ts survivor says so
// to the LAN itself; heartbeat 3.0.6 never re-announces an address it already holds, so clients keep
// the ARP entry our takeover gave them and send to us until it expires. We announce the address for
// the survivor: ask who holds it (arping), then send gratuitous ARP whose payload names the holder's
// MAC (resource-agents' send_arp; the Ethernet frame still carries ours, so switches learn nothing false).

import { describeFailure, run } from './agent-exec.js'
import { ipaddrOptions } from './agent-options.js'
import { findInterface } from './find-interface.js'
import { parseIpSpec } from './ip-spec.js'
import { parseIpAddrJson, parseIpRouteJson } from './ip-state.js'

/** resource-agents installs it outside PATH. */
export const SEND_ARP = '/usr/libexec/heartbeat/send_arp'
/** How long the holder has to answer; a second try follows the first after a second. */
const ASK_WAIT_SEC = 2
/** heartbeat IPaddr's send_arp pacing: 5 request+reply pairs, 200 ms apart. */
const SEND_ARP_PAIRS = 5
const SEND_ARP_INTERVAL_MS = 200

type Env = Readonly<Record<string, string | undefined>>

export interface AnnounceOutcome {
  ok: boolean
  /** One line for the log. */
  text: string
}

/** `Unicast reply from 10.0.0.9 [02:11:22:33:44:55]  0.6ms` → the MAC, when it is not `ownMac`. */
export function holderMacOf(arpingOut: string, ownMac: string | undefined): string | undefined {
  for (const m of arpingOut.matchAll(/reply from \S+ \[([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})\]/g)) {
    const mac = (m[1] ?? '').toLowerCase()
    if (mac !== ownMac?.toLowerCase()) return mac
  }
  return undefined
}

/** Announce `specText` (an IPaddr argument) with the MAC of whoever answers for it now. */
export async function announceForHolder(specText: string, env: Env, signal?: AbortSignal): Promise<AnnounceOutcome> {
  const o = ipaddrOptions(env)
  const opts = { env, ...(signal !== undefined ? { signal } : {}) }
  const parsed = parseIpSpec(specText)
  if (!parsed.ok) return { ok: false, text: `IPaddr ${specText}: ${parsed.message}` }
  const ip = parsed.spec.ip
  const [addrs, routes] = await Promise.all([run(o.ipCmd, ['-j', '-4', 'addr', 'show'], opts), run(o.ipCmd, ['-j', '-4', 'route', 'show', 'table', 'main'], opts)])
  if (addrs.exitCode !== 0 || addrs.failure !== undefined) return { ok: false, text: `${ip}: ${describeFailure(addrs)}` }
  if (routes.exitCode !== 0 || routes.failure !== undefined) return { ok: false, text: `${ip}: ${describeFailure(routes)}` }
  const links = parseIpAddrJson(addrs.stdout.trim())
  const table = parseIpRouteJson(routes.stdout.trim())
  if (!links.ok) return { ok: false, text: `${ip}: ${links.message}` }
  if (!table.ok) return { ok: false, text: `${ip}: ${table.message}` }
  const placed = findInterface(parsed.spec, links.value, table.value)
  if (!placed.ok) return { ok: false, text: `${ip}: ${placed.message}` }
  const nic = placed.placement.nic.split(':')[0] ?? placed.placement.nic
  const ownMac = links.value.find((l) => l.ifname === nic)?.mac
  if (o.dryRun) return { ok: true, text: `DRY RUN: ${o.arpingCmd} -f -c 3 -w ${ASK_WAIT_SEC} -I ${nic} ${ip}, then ${SEND_ARP} with the answering MAC` }
  // -f: done at the first answer; our own copy of the address is gone from this interface by now.
  const asked = await run(o.arpingCmd, ['-f', '-c', '3', '-w', String(ASK_WAIT_SEC), '-I', nic, ip], { ...opts, timeoutMs: (ASK_WAIT_SEC + 2) * 1000 })
  const mac = holderMacOf(asked.stdout, ownMac)
  if (mac === undefined) return { ok: false, text: `${ip}: nobody answered for it on ${nic}, so there is no holder to announce` }
  const sent = await run(env.HBTS_SEND_ARP_CMD ?? SEND_ARP, ['-i', String(SEND_ARP_INTERVAL_MS), '-r', String(SEND_ARP_PAIRS), nic, ip, mac.replaceAll(':', ''), 'auto', 'auto'], {
    ...opts,
    timeoutMs: SEND_ARP_PAIRS * SEND_ARP_INTERVAL_MS + 5000,
  })
  if (sent.exitCode !== 0 || sent.failure !== undefined) return { ok: false, text: `${ip}: announcing it at ${mac} failed: ${describeFailure(sent)}` }
  return { ok: true, text: `${ip} announced on ${nic} at the holder's MAC ${mac} (it keeps the address we gave up)` }
}
