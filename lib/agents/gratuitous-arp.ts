// Gratuitous ARP after a takeover: iputils arping command lines and their pacing (heartbeat's send_arp count by default).

export interface ArpPacing {
  /** Request+reply pairs; heartbeat 3.0.6 IPaddr: ARP_REPEAT=10. */
  pairs: number
  /** Between pairs; heartbeat 3.0.6 IPaddr: ARP_INTERVAL_MS=500. */
  intervalMs: number
}

export const HEARTBEAT_ARP_PACING: ArpPacing = { pairs: 10, intervalMs: 500 }

/**
 * HBTS_ARP_REPEAT / HBTS_ARP_INTERVAL_MS (named after IPaddr's ARP_REPEAT / ARP_INTERVAL_MS)
 * override the defaults; 0 pairs turns gratuitous ARP off.
 */
export function arpPacingFromEnv(env: Readonly<Record<string, string | undefined>>): { ok: true; pacing: ArpPacing } | { ok: false; message: string } {
  const pacing = { ...HEARTBEAT_ARP_PACING }
  const repeat = env.HBTS_ARP_REPEAT
  if (repeat !== undefined && repeat !== '') {
    if (!/^\d+$/.test(repeat) || Number(repeat) > 1000) return { ok: false, message: `HBTS_ARP_REPEAT=${JSON.stringify(repeat)}: expected a count 0-1000` }
    pacing.pairs = Number(repeat)
  }
  const interval = env.HBTS_ARP_INTERVAL_MS
  if (interval !== undefined && interval !== '') {
    // arping's -i has 1 ms granularity in practice; below 10 ms the pairs would just burst.
    if (!/^\d+$/.test(interval) || Number(interval) < 10 || Number(interval) > 60000) return { ok: false, message: `HBTS_ARP_INTERVAL_MS=${JSON.stringify(interval)}: expected milliseconds 10-60000` }
    pacing.intervalMs = Number(interval)
  }
  return { ok: true, pacing }
}

/**
 * Two arping runs started together: `-U` sends the unsolicited requests, `-A` the replies, so each
 * round is a request+reply pair like send_arp's, the first round at once. Sender and target IP are
 * both the service address; the source MAC is the interface's.
 */
export function arpingArgvs(nic: string, ip: string, pacing: ArpPacing): string[][] {
  if (pacing.pairs === 0) return []
  const seconds = (pacing.intervalMs / 1000).toString()
  const common = ['-c', String(pacing.pairs), '-i', seconds, '-I', nic, ip]
  return [
    ['-q', '-U', ...common],
    ['-q', '-A', ...common],
  ]
}
