// haresources + ha.cf → a Pacemaker CIB and a corosync.conf, as strings (hbctl export-pacemaker writes them).

import type { HaCf, StonithDirective } from './ha-cf.js'
import type { ResourceGroup, ResourceRef } from './haresources.js'
import { parseIpaddrSpec } from './ipaddr-spec.js'

export interface PacemakerExport {
  cibXml: string
  corosyncConf: string
  /** What the admin must read: stonith off, arguments that had no home, addresses to check. */
  notes: string[]
}

/** The preference a group has for its haresources node. Stickiness for auto_failback off must beat it. */
export const OWNER_SCORE = 100
/** Per primitive (a group's stickiness is the sum of its members'): > OWNER_SCORE even for a one-resource group. */
export const STICKY_SCORE = 200
/** OCF provider directory our own agents install under (/usr/lib/ocf/resource.d/heartbeat-ts). */
export const OUR_PROVIDER = 'heartbeat-ts'

interface Primitive {
  id: string
  cls: 'ocf' | 'lsb'
  provider?: string
  type: string
  params: Array<[string, string]>
  /** Where it came from, for the comment. */
  text: string
}

/**
 * One ha.cf `stonith`/`stonith_host` line with what the caller learned about it: the plugin's parameter
 * names (`stonith -t TYPE -n`) and the positional values (the line's rest, or the `stonith` file's).
 */
export interface StonithSource {
  directive: StonithDirective
  names: readonly string[]
  values: string
}

/** What cluster-glue does with positional values: one per name, the last name takes the rest. */
export function stonithParams(names: readonly string[], values: string): { ok: true; params: Array<[string, string]> } | { ok: false; why: string } {
  const words = values.trim() === '' ? [] : values.trim().split(/\s+/)
  if (names.length === 0) return words.length === 0 ? { ok: true, params: [] } : { ok: false, why: 'the plugin names no parameters but values are given' }
  if (words.length < names.length) return { ok: false, why: `${words.length} value${words.length === 1 ? '' : 's'} for ${names.length} parameter${names.length === 1 ? '' : 's'} (${names.join(' ')})` }
  const params = names.slice(0, -1).map((n, i): [string, string] => [n, words[i] ?? ''])
  params.push([names[names.length - 1] ?? '', words.slice(names.length - 1).join(' ')])
  return { ok: true, params }
}

/** How the ha.cf line reads, for comments and messages. */
export function stonithLineText(d: StonithDirective): string {
  return d.kind === 'stonith' ? `stonith ${d.type} ${d.configFile}` : `stonith_host ${d.host} ${d.type} ${d.params}`.trimEnd()
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** XML comments must not contain "--". */
function comment(s: string): string {
  return `<!-- ${s.replace(/-{2,}/g, (m) => m.split('').join(' '))} -->`
}

/** An XML ID (NCName) from free text. */
function idFrom(text: string): string {
  const s = text.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[^A-Za-z_]+/, '')
  return s === '' ? 'r' : s
}

class Ids {
  private readonly used = new Set<string>()
  take(wanted: string): string {
    const base = idFrom(wanted)
    let id = base
    for (let n = 2; this.used.has(id); n++) id = `${base}-${n}`
    this.used.add(id)
    return id
  }
}

/** One haresources resource as a Pacemaker primitive (unsaved id). */
function primitiveFor(r: ResourceRef, notes: string[]): Omit<Primitive, 'id'> & { idHint: string } {
  const base = { text: r.text }
  if (r.agent === 'IPaddr' || r.agent === 'IPaddr2') {
    const spec = parseIpaddrSpec(r.args[0] ?? '')
    if (spec.ok) {
      const params: Array<[string, string]> = [['ip', spec.value.ip]]
      if (spec.value.cidrBits !== undefined) params.push(['cidr_netmask', String(spec.value.cidrBits)])
      // a label (eth0:0) names its base interface; IPaddr2 picks its own label
      if (spec.value.nic !== undefined) params.push(['nic', spec.value.nic.split(':')[0] ?? spec.value.nic])
      if (spec.value.broadcast !== undefined) params.push(['broadcast', spec.value.broadcast])
      return { ...base, idHint: `vip-${spec.value.ip}`, cls: 'ocf', provider: 'heartbeat', type: 'IPaddr2', params }
    }
  }
  if (r.agent === 'lvs') {
    const [service, scheduler, reals, forwarding] = r.args
    const params: Array<[string, string]> = []
    if (service !== undefined) params.push(['service', service])
    if (scheduler !== undefined) params.push(['scheduler', scheduler])
    if (reals !== undefined) params.push(['real_servers', reals])
    if (forwarding !== undefined) params.push(['forwarding', forwarding])
    return { ...base, idHint: 'lvs', cls: 'ocf', provider: OUR_PROVIDER, type: 'lvs', params }
  }
  if (r.agent === 'Filesystem') {
    const names = ['device', 'directory', 'fstype', 'options']
    const params = r.args.slice(0, 4).map((v, i): [string, string] => [names[i] ?? '', v])
    if (r.args.length > 4) notes.push(`${r.text}: Filesystem takes device::directory::fstype[::options]; the rest is dropped`)
    return { ...base, idHint: `fs-${r.args[1] ?? r.args[0] ?? 'fs'}`, cls: 'ocf', provider: 'heartbeat', type: 'Filesystem', params }
  }
  // resource-agents ships these as OCF agents taking the same arguments by name.
  const known: Record<string, string[]> = {
    MailTo: ['email', 'subject'],
    Delay: ['startdelay', 'stopdelay'],
    IPsrcaddr: ['ipaddress'],
    SendArp: ['ip', 'nic'],
    apache: ['configfile'],
  }
  const names = known[r.agent]
  if (names !== undefined) {
    const params = r.args.slice(0, names.length).map((v, i): [string, string] => [names[i] ?? '', v])
    if (r.args.length > names.length) notes.push(`${r.text}: ${r.agent} takes ${names.join('::')}; the rest is dropped`)
    return { ...base, idHint: r.agent, cls: 'ocf', provider: 'heartbeat', type: r.agent, params }
  }
  // An init script (or a resource.d script) run as `name start|stop|status`: LSB.
  if (r.args.length > 0) notes.push(`${r.text}: an LSB init script takes no arguments; ${r.args.join(', ')} dropped; write an OCF agent for ${r.agent} or a wrapper script in /etc/init.d`)
  return { ...base, idHint: r.agent, cls: 'lsb', type: r.agent, params: [] }
}

/** How auto_failback becomes resource-stickiness (see hbctl-export-pacemaker(8)). */
export function stickinessFor(autoFailback: HaCf['autoFailback']): number {
  // on: back to the owner; legacy (3.0.6's default, nice_failback off) fails back too; off: stay
  return autoFailback === 'off' ? STICKY_SCORE : 0
}

export function buildCib(haCf: HaCf, groups: readonly ResourceGroup[], notes: string[], stonith: readonly StonithSource[] = []): string {
  const ids = new Ids()
  const lines: string[] = []
  const nv = (owner: string, name: string, value: string, indent: string): string =>
    `${indent}<nvpair id="${ids.take(`${owner}-${name}`)}" name="${xmlEscape(name)}" value="${xmlEscape(value)}"/>`
  lines.push('<cib validate-with="pacemaker-3.0" epoch="1" num_updates="0" admin_epoch="0">')
  lines.push(`  ${comment(`exported by hbctl export-pacemaker from ha.cf and haresources (cluster ${haCf.cluster})`)}`)
  lines.push('  <configuration>')
  lines.push('    <crm_config>')
  lines.push('      <cluster_property_set id="cib-bootstrap-options">')
  if (stonith.length === 0) {
    lines.push(`        ${comment('WARNING: STONITH IS OFF. heartbeat release 1 ran without fencing; a split brain can start the VIP on both nodes. Configure a fence device and set stonith-enabled=true before production.')}`)
    lines.push(nv('cib-bootstrap-options', 'stonith-enabled', 'false', '        '))
  } else {
    lines.push(`        ${comment(`ha.cf names ${stonith.length} STONITH device${stonith.length === 1 ? '' : 's'}: fencing on`)}`)
    lines.push(nv('cib-bootstrap-options', 'stonith-enabled', 'true', '        '))
  }
  lines.push(`        ${comment('two nodes: the survivor keeps the resources, as heartbeat did (corosync two_node also keeps quorum)')}`)
  lines.push(nv('cib-bootstrap-options', 'no-quorum-policy', 'ignore', '        '))
  lines.push(nv('cib-bootstrap-options', 'cluster-name', haCf.cluster, '        '))
  lines.push('      </cluster_property_set>')
  lines.push('    </crm_config>')
  lines.push('    <nodes>')
  haCf.nodes.forEach((n, i) => lines.push(`      <node id="${i + 1}" uname="${xmlEscape(n)}"/>`))
  lines.push('    </nodes>')
  lines.push('    <resources>')
  const locations: string[] = []
  for (const src of stonith) {
    const d = src.directive
    const mapped = stonithParams(src.names, src.values)
    // the caller checked; a line that does not map is refused there, never dropped here
    if (!mapped.ok) throw new Error(`ha.cf line ${d.line}: ${stonithLineText(d)}: ${mapped.why}`)
    const id = ids.take(`st-${d.kind === 'stonith_host' && d.host !== '*' ? d.host : d.type.replace(/^external\//, '')}`)
    lines.push(`      ${comment(`ha.cf line ${d.line}: ${d.kind === 'stonith' ? stonithLineText(d) : `stonith_host ${d.host} ${d.type}`} (cluster-glue plugin; parameters by name)`)}`)
    lines.push(`      <primitive id="${id}" class="stonith" type="${xmlEscape(d.type)}">`)
    if (mapped.params.length > 0) {
      lines.push(`        <instance_attributes id="${ids.take(`${id}-instance_attributes`)}">`)
      for (const [k, v] of mapped.params) lines.push(nv(id, k, v, '          '))
      lines.push('        </instance_attributes>')
    }
    lines.push('        <operations>')
    lines.push(`          <op id="${ids.take(`${id}-monitor-60s`)}" name="monitor" interval="60s" timeout="20s"/>`)
    lines.push('        </operations>')
    lines.push('      </primitive>')
    // stonith_host HOST: only HOST used the device (3.0.6 skips the line elsewhere), so it runs
    // nowhere else, which keeps it off the peer it fences; `*` and `stonith` lines: any node
    if (d.kind === 'stonith_host' && d.host !== '*') {
      for (const n of haCf.nodes.filter((n) => n !== d.host)) {
        locations.push(`    <rsc_location id="${ids.take(`loc-${id}-not-${n}`)}" rsc="${id}" node="${xmlEscape(n)}" score="-INFINITY"/>`)
      }
    }
  }
  for (const g of groups) {
    const prims = g.resources.map((r) => {
      const p = primitiveFor(r, notes)
      return { ...p, id: ids.take(p.idHint) } satisfies Primitive
    })
    const groupId = ids.take(`grp-${prims[0]?.id ?? 'group'}`)
    lines.push(`      ${comment(`haresources line ${g.line}: ${g.node} ${g.resources.map((r) => r.text).join(' ')}`)}`)
    lines.push(`      <group id="${groupId}">`)
    for (const p of prims) {
      const provider = p.provider !== undefined ? ` provider="${p.provider}"` : ''
      lines.push(`        <primitive id="${p.id}" class="${p.cls}"${provider} type="${xmlEscape(p.type)}">`)
      if (p.params.length > 0) {
        lines.push(`          <instance_attributes id="${ids.take(`${p.id}-instance_attributes`)}">`)
        for (const [k, v] of p.params) lines.push(nv(p.id, k, v, '            '))
        lines.push('          </instance_attributes>')
      }
      lines.push('          <operations>')
      lines.push(`            <op id="${ids.take(`${p.id}-monitor-10s`)}" name="monitor" interval="10s" timeout="20s"/>`)
      lines.push(`            <op id="${ids.take(`${p.id}-start-0`)}" name="start" interval="0s" timeout="60s"/>`)
      lines.push(`            <op id="${ids.take(`${p.id}-stop-0`)}" name="stop" interval="0s" timeout="60s"/>`)
      lines.push('          </operations>')
      lines.push('        </primitive>')
    }
    lines.push('      </group>')
    locations.push(`    <rsc_location id="${ids.take(`loc-${groupId}`)}" rsc="${groupId}" node="${xmlEscape(g.node)}" score="${OWNER_SCORE}"/>`)
  }
  lines.push('    </resources>')
  lines.push('    <constraints>')
  lines.push(`      ${comment(`each group prefers its haresources node (score ${OWNER_SCORE}); it may run on the other. A stonith_host device runs only on its host.`)}`)
  lines.push(...locations.map((l) => `  ${l}`))
  lines.push('    </constraints>')
  const sticky = stickinessFor(haCf.autoFailback)
  lines.push('    <rsc_defaults>')
  lines.push(`      ${comment(`auto_failback ${haCf.autoFailback}: resource-stickiness ${sticky} per resource (${sticky === 0 ? 'groups go back to their haresources node' : `beats the owner's ${OWNER_SCORE}: groups stay where they run`})`)}`)
  lines.push('      <meta_attributes id="rsc-options">')
  lines.push(nv('rsc-options', 'resource-stickiness', String(sticky), '        '))
  lines.push('      </meta_attributes>')
  lines.push('    </rsc_defaults>')
  lines.push('  </configuration>')
  lines.push('  <status/>')
  lines.push('</cib>')
  return `${lines.join('\n')}\n`
}

/** One corosync link: the interface heartbeat used, its port, and each node's address on it. */
interface Link {
  iface: string
  port: number
  /** Node name → ring address (the node name itself when ha.cf does not say). */
  addrs: Map<string, string>
  from: string
}

function linksFrom(haCf: HaCf, notes: string[]): Link[] {
  const byIface = new Map<string, { port: number; kinds: Set<string>; ucast: string[] }>()
  const touch = (iface: string, port: number, kind: string): { port: number; kinds: Set<string>; ucast: string[] } => {
    const e = byIface.get(iface) ?? { port, kinds: new Set<string>(), ucast: [] }
    e.kinds.add(kind)
    byIface.set(iface, e)
    return e
  }
  for (const m of haCf.media) {
    if (m.kind === 'bcast') for (const i of m.interfaces) touch(i, m.port, 'bcast')
    else if (m.kind === 'ucast') touch(m.interface, m.port, 'ucast').ucast.push(m.address)
    else if (m.kind === 'mcast') touch(m.interface, m.port, `mcast ${m.group}`)
    else notes.push(`ha.cf line ${m.line}: ${m.kind} has no corosync equivalent here and is left out`)
  }
  const links: Link[] = []
  for (const [iface, e] of byIface) {
    const addrs = new Map<string, string>()
    const ucast = [...new Set(e.ucast)]
    haCf.nodes.forEach((n, i) => addrs.set(n, ucast.length === haCf.nodes.length ? (ucast[i] ?? n) : n))
    if (ucast.length === haCf.nodes.length) notes.push(`corosync.conf link on ${iface}: ucast addresses ${ucast.join(', ')} paired with nodes ${haCf.nodes.join(', ')} in file order; check them`)
    else notes.push(`corosync.conf link on ${iface}: ha.cf gives no per-node address (${[...e.kinds].join(', ')}); node names are used as ring addresses and must resolve to their ${iface} address`)
    links.push({ iface, port: e.port, addrs, from: [...e.kinds].join(', ') })
  }
  if (links.length > 8) {
    notes.push(`corosync (knet) takes at most 8 links; ${links.length - 8} left out`)
    links.length = 8
  }
  return links
}

/** deadtime → token; consensus = 1.2 × token (corosync's own rule); keepalive → knet ping interval. */
export function corosyncTimers(haCf: HaCf): { tokenMs: number; consensusMs: number; pingIntervalMs: number; pingTimeoutMs: number } {
  const tokenMs = Math.max(haCf.deadtimeMs, 1000)
  const pingIntervalMs = Math.max(Math.min(haCf.keepaliveMs, Math.floor(tokenMs / 4)), 100)
  return { tokenMs, consensusMs: Math.round(tokenMs * 1.2), pingIntervalMs, pingTimeoutMs: Math.max(pingIntervalMs * 2, Math.floor(tokenMs / 2)) }
}

export function buildCorosyncConf(haCf: HaCf, notes: string[]): string {
  const links = linksFrom(haCf, notes)
  const t = corosyncTimers(haCf)
  const out: string[] = []
  out.push('# corosync.conf exported by hbctl export-pacemaker from ha.cf; see hbctl-export-pacemaker(8).')
  out.push('# Put the same file on every node and create the key with corosync-keygen (heartbeat\'s authkeys')
  out.push('# cannot be reused: corosync wants its own binary /etc/corosync/authkey).')
  out.push('totem {')
  out.push('    version: 2')
  out.push(`    cluster_name: ${haCf.cluster}`)
  out.push('    transport: knet')
  out.push(`    # deadtime ${haCf.deadtimeMs} ms -> token; consensus = 1.2 x token`)
  out.push(`    token: ${t.tokenMs}`)
  out.push(`    consensus: ${t.consensusMs}`)
  out.push('    crypto_cipher: aes256')
  out.push('    crypto_hash: sha256')
  links.forEach((l, i) => {
    out.push(`    # link ${i}: heartbeat ${l.from} on ${l.iface} (knet sends unicast UDP on the same port)`)
    out.push('    interface {')
    out.push(`        linknumber: ${i}`)
    out.push(`        mcastport: ${l.port}`)
    out.push(`        # keepalive ${haCf.keepaliveMs} ms -> knet ping interval`)
    out.push(`        knet_ping_interval: ${t.pingIntervalMs}`)
    out.push(`        knet_ping_timeout: ${t.pingTimeoutMs}`)
    out.push('    }')
  })
  out.push('}')
  out.push('')
  out.push('nodelist {')
  haCf.nodes.forEach((n, i) => {
    out.push('    node {')
    out.push(`        name: ${n}`)
    out.push(`        nodeid: ${i + 1}`)
    links.forEach((l, k) => out.push(`        ring${k}_addr: ${l.addrs.get(n) ?? n}`))
    out.push('    }')
  })
  out.push('}')
  out.push('')
  out.push('quorum {')
  out.push('    provider: corosync_votequorum')
  if (haCf.nodes.length === 2) {
    out.push('    # two nodes: the survivor keeps quorum (wait_for_all: both must be seen once at start)')
    out.push('    two_node: 1')
  }
  out.push('}')
  out.push('')
  out.push('logging {')
  out.push('    to_syslog: yes')
  if (haCf.logfacility !== undefined && haCf.logfacility !== 'none') out.push(`    syslog_facility: ${haCf.logfacility}`)
  out.push('    timestamp: on')
  out.push('}')
  return `${out.join('\n')}\n`
}

/** `stonith` must give one source per ha.cf stonith line (the CLI refuses lines it could not resolve). */
export function exportPacemaker(haCf: HaCf, groups: readonly ResourceGroup[], stonith: readonly StonithSource[] = []): PacemakerExport {
  const notes: string[] = []
  if (stonith.length === 0) notes.push('WARNING: stonith-enabled=false. heartbeat release 1 ran without fencing and so does this CIB; configure a fence device and turn STONITH on before relying on it.')
  else notes.push(`stonith-enabled=true with ${stonith.map((s) => `${s.directive.type} (ha.cf line ${s.directive.line})`).join(', ')}; test each device (stonith_admin --reboot) before relying on it`)
  for (const src of stonith) {
    const d = src.directive
    if (d.kind === 'stonith_host' && d.host !== '*' && !haCf.nodes.includes(d.host)) notes.push(`WARNING: ha.cf line ${d.line}: stonith_host ${d.host} is not a node of this cluster; its device can run nowhere`)
  }
  for (const n of haCf.nodes) {
    const mine = stonith.filter((s) => s.directive.kind === 'stonith' || s.directive.host === '*' || s.directive.host === n)
    // 3.0.6 kept one device per node (the last line that applies); Pacemaker may use any of them
    if (mine.length > 1) notes.push(`${n} may use ${mine.length} devices (ha.cf lines ${mine.map((s) => s.directive.line).join(', ')}); heartbeat used only the last (line ${mine[mine.length - 1]?.directive.line}): remove the others or order them with a fencing-topology`)
  }
  const cibXml = buildCib(haCf, groups, notes, stonith)
  const corosyncConf = buildCorosyncConf(haCf, notes)
  return { cibXml, corosyncConf, notes }
}
