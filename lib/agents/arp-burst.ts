// The background gratuitous-ARP sender: `node arp-burst.js <arping> <nic> <ip> <pairs> <intervalMs>`, run detached by IPaddr start, killed by stop.

import { execa } from 'execa'
import { pathToFileURL } from 'node:url'
import { arpSchedule, type ArpPacing } from './gratuitous-arp.js'

/** Sends the whole burst; resolves when the last arping has ended. */
export async function sendBurst(arping: string, nic: string, ip: string, pacing: ArpPacing): Promise<void> {
  const started = performance.now()
  const running: Promise<unknown>[] = []
  for (const send of arpSchedule(nic, ip, pacing)) {
    const wait = send.atMs - (performance.now() - started)
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    // arping -c 1 lingers a second after sending: do not wait for it before the next frame.
    running.push(execa(arping, send.argv, { reject: false, timeout: 3000, stdio: 'ignore' }))
  }
  await Promise.all(running)
}

const invoked = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (invoked) {
  const [arping, nic, ip, pairs, intervalMs] = process.argv.slice(2)
  if (arping === undefined || nic === undefined || ip === undefined || pairs === undefined || intervalMs === undefined) {
    process.stderr.write('usage: arp-burst.js <arping> <nic> <ip> <pairs> <intervalMs>\n')
    process.exitCode = 2
  } else {
    await sendBurst(arping, nic, ip, { pairs: Number(pairs), intervalMs: Number(intervalMs) })
  }
}
