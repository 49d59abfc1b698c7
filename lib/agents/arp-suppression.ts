// ARP suppression for a service address held on lo: arp_ignore/arp_announce (what the 2.2 `hidden` flag did).

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
