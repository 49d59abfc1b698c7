// ARP suppression for a service address held on lo: arp_ignore/arp_announce, and the 2.2 `hidden` flag translated to them.

/** A write under /proc/sys, the key relative to it (`net/ipv4/conf/all/arp_ignore`). */
export interface SysctlWrite {
  key: string
  value: string
  why: string
}

export const ARP_IGNORE_KEY = 'net/ipv4/conf/all/arp_ignore'
export const ARP_ANNOUNCE_KEY = 'net/ipv4/conf/all/arp_announce'

/** Current `conf/all` values; a missing file reads as 0, the kernel default. */
export interface ArpSysctls {
  arpIgnore: number
  arpAnnounce: number
}

/**
 * lvs-mon-agents §3.2: arp_ignore=1 (answer only for addresses on the receiving interface) and
 * arp_announce=2 on `all`. The kernel uses max(all, iface), so `all` alone is enough and we only
 * ever raise a value, never lower one an administrator set higher.
 */
export function arpSuppressionWrites(current: ArpSysctls): SysctlWrite[] {
  const writes: SysctlWrite[] = []
  if (current.arpIgnore < 1) writes.push({ key: ARP_IGNORE_KEY, value: '1', why: 'do not answer ARP for the lo-held service address' })
  if (current.arpAnnounce < 2) writes.push({ key: ARP_ANNOUNCE_KEY, value: '2', why: 'never announce the lo-held service address as an ARP source' })
  return writes
}

export interface HiddenTranslation {
  writes: SysctlWrite[]
  /** One line for the log, naming what the legacy script asked for and what is done instead. */
  log: string
}

const HIDDEN_PATH = /^\/proc\/sys\/net\/ipv4\/conf\/([^/\s]+)\/hidden$/

/**
 * A write of the 2.2/2.4 `hidden` flag (absent from every modern kernel) becomes "ensure
 * all.arp_ignore>=1 and all.arp_announce>=2" (lvs-mon-agents §10, Q6). Returns undefined when
 * the path is not a hidden flag. Writing 0 asks for nothing we can honour safely: logged only.
 */
export function translateHiddenWrite(path: string, value: string, current: ArpSysctls): HiddenTranslation | undefined {
  const m = HIDDEN_PATH.exec(path.trim())
  if (m === null) return undefined
  const dev = m[1] ?? ''
  const v = value.trim()
  if (v === '0') {
    return { writes: [], log: `legacy write "${v}" to ${path}: the hidden flag does not exist on this kernel; nothing done (arp_ignore/arp_announce left as they are)` }
  }
  const writes = arpSuppressionWrites(current)
  const done = writes.length === 0 ? 'already in effect' : writes.map((w) => `${w.key.replaceAll('/', '.')}=${w.value}`).join(', ')
  return {
    writes,
    log: `legacy write "${v}" to ${path} (hidden on ${dev}) translated to net.ipv4.conf.all.arp_ignore>=1, arp_announce>=2: ${done}`,
  }
}

/**
 * Recognises a legacy shell line such as the seed's `echo 1 > /proc/sys/net/ipv4/conf/all/hidden`
 * (ipvsadm.sct, init.d/lvs). Returns the path and value, or undefined for any other line.
 */
export function parseHiddenShellLine(line: string): { path: string; value: string } | undefined {
  const m = /^\s*echo\s+(?:-n\s+)?["']?(\d+)["']?\s*>\s*(\/proc\/sys\/net\/ipv4\/conf\/[^/\s]+\/hidden)\s*(?:#.*)?$/.exec(line)
  if (m === null) return undefined
  return { path: m[2] ?? '', value: m[1] ?? '' }
}
