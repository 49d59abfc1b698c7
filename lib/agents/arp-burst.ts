// The background gratuitous-ARP sender: `node arp-burst.js <arping> <nic> <ip> <pairs> <intervalMs> [<fromPair> <originEpochMs>]`, run detached by IPaddr start, killed by stop.

import { execa } from 'execa'
import { pathToFileURL } from 'node:url'
import { arpSchedule, type ArpPacing } from './gratuitous-arp.js'

export interface BurstOptions {
  /** Pairs already sent by the caller (IPaddr start sends the first pair itself). */
  fromPair?: number
  /** Wall-clock ms of the burst's first frame: the schedule stays anchored to it whatever our own start-up took. */
  originEpochMs?: number
}

/** Sends the burst (from `fromPair` on); resolves when the last arping has ended. */
export async function sendBurst(arping: string, nic: string, ip: string, pacing: ArpPacing, options: BurstOptions = {}): Promise<void> {
  const origin = options.originEpochMs ?? Date.now()
  const skip = 2 * (options.fromPair ?? 0)
  const running: Promise<unknown>[] = []
  for (const send of arpSchedule(nic, ip, pacing).slice(skip)) {
    const wait = origin + send.atMs - Date.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    // arping -c 1 lingers a second after sending: do not wait for it before the next frame.
    running.push(execa(arping, send.argv, { reject: false, timeout: 3000, stdio: 'ignore' }))
  }
  await Promise.all(running)
}

const invoked = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (invoked) {
  const [arping, nic, ip, pairs, intervalMs, fromPair, origin] = process.argv.slice(2)
  if (arping === undefined || nic === undefined || ip === undefined || pairs === undefined || intervalMs === undefined) {
    process.stderr.write('usage: arp-burst.js <arping> <nic> <ip> <pairs> <intervalMs> [<fromPair> <originEpochMs>]\n')
    process.exitCode = 2
  } else {
    const options: BurstOptions = {}
    if (fromPair !== undefined && /^\d+$/.test(fromPair)) options.fromPair = Number(fromPair)
    if (origin !== undefined && /^\d+$/.test(origin)) options.originEpochMs = Number(origin)
    await sendBurst(arping, nic, ip, { pairs: Number(pairs), intervalMs: Number(intervalMs) }, options)
  }
}
