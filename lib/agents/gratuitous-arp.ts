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

export interface ArpSend {
  /** Offset from the start of the burst. */
  atMs: number
  /** arping arguments for one frame. */
  argv: string[]
}

/**
 * send_arp's pattern (heartbeat-protocol §11.4) with iputils arping, one frame per run: each pair
 * is a request (`-U`), then half an interval later a reply (`-A`); pairs one interval apart, the
 * first at once. Sender and target IP are the service address, the source MAC the interface's.
 * We pace ourselves because arping's own `-i` takes whole seconds only.
 */
export function arpSchedule(nic: string, ip: string, pacing: ArpPacing): ArpSend[] {
  const out: ArpSend[] = []
  for (let k = 0; k < pacing.pairs; k++) {
    const at = k * pacing.intervalMs
    out.push({ atMs: at, argv: ['-q', '-U', '-c', '1', '-I', nic, ip] })
    out.push({ atMs: at + Math.floor(pacing.intervalMs / 2), argv: ['-q', '-A', '-c', '1', '-I', nic, ip] })
  }
  return out
}

/**
 * A takeover's schedule split in two: the first pair, sent by IPaddr start itself the moment the
 * address is up (no helper start-up in the way), and the rest, left to the background pacer. The
 * first pair's reply goes out with its request instead of half an interval later, so clients that
 * heed only one kind of gratuitous frame both move at once; later pairs keep send_arp's pattern.
 */
export function splitFirstPair(schedule: readonly ArpSend[]): { now: ArpSend[]; later: ArpSend[] } {
  return { now: schedule.slice(0, 2).map((s) => ({ atMs: 0, argv: s.argv })), later: schedule.slice(2) }
}
