// Gratuitous ARP after a takeover: iputils arping command lines and their pacing (heartbeat's send_arp count by default).
import { ARP_COUNT_RANGE, ARP_INTERVAL_RANGE, defaultSettings, type Settings } from '../config/settings.js'

export interface ArpPacing {
  /** Request+reply pairs; heartbeat 3.0.6 IPaddr: ARP_REPEAT=10. */
  pairs: number
  /** Between pairs; heartbeat 3.0.6 IPaddr: ARP_INTERVAL_MS=500. */
  intervalMs: number
}

/** heartbeat 3.0.6's send_arp pacing, which is also heartbeat-ts.conf's [ipaddr] default. */
export const HEARTBEAT_ARP_PACING: ArpPacing = arpPacingOf(defaultSettings().ipaddr)

/** heartbeat-ts.conf [ipaddr] arp_count / arp_interval_ms as a pacing. */
export function arpPacingOf(ipaddr: Settings['ipaddr']): ArpPacing {
  return { pairs: ipaddr.arpCount, intervalMs: ipaddr.arpIntervalMs }
}

/*
 * The pacing's one source is heartbeat-ts.conf [ipaddr]. IPaddr runs as a child process, so the daemon
 * carries it there in two variables (named after IPaddr's ARP_REPEAT / ARP_INTERVAL_MS), written by
 * arpPacingToEnv and read back once by arpPacingFromEnv at the agent's entry. Unset (IPaddr run by
 * hand), heartbeat's 10 pairs at 500 ms apply; 0 pairs turns gratuitous ARP off (tests).
 */
const REPEAT_ENV = 'HBTS_ARP_REPEAT'
const INTERVAL_ENV = 'HBTS_ARP_INTERVAL_MS'

/** The daemon's side of the carrier: the variables IPaddr reads. */
export function arpPacingToEnv(pacing: ArpPacing): Record<string, string> {
  return { [REPEAT_ENV]: String(pacing.pairs), [INTERVAL_ENV]: String(pacing.intervalMs) }
}

/** The agent's side: the pacing the daemon passed, checked against heartbeat-ts.conf's ranges. */
export function arpPacingFromEnv(env: Readonly<Record<string, string | undefined>>): { ok: true; pacing: ArpPacing } | { ok: false; message: string } {
  const pacing = { ...HEARTBEAT_ARP_PACING }
  const repeat = env[REPEAT_ENV]
  if (repeat !== undefined && repeat !== '') {
    if (!/^\d+$/.test(repeat) || Number(repeat) > ARP_COUNT_RANGE.max) return { ok: false, message: `${REPEAT_ENV}=${JSON.stringify(repeat)}: expected a count 0-${ARP_COUNT_RANGE.max}` }
    pacing.pairs = Number(repeat)
  }
  const interval = env[INTERVAL_ENV]
  if (interval !== undefined && interval !== '') {
    const { min, max } = ARP_INTERVAL_RANGE
    if (!/^\d+$/.test(interval) || Number(interval) < min || Number(interval) > max) return { ok: false, message: `${INTERVAL_ENV}=${JSON.stringify(interval)}: expected milliseconds ${min}-${max}` }
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
