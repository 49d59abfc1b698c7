#!/usr/bin/env node
// hbctl: the admin's command. Dispatches to one module per sub-command.

import { hbVersionString } from '../control/version.js'

interface Subcommand {
  summary: string
  load: () => Promise<{ main(argv: string[]): Promise<number> }>
}

const subcommands: Record<string, Subcommand> = {
  status: { summary: 'nodes, links, resource groups and real servers at a glance (--json, --watch)', load: () => import('./hbctl-status.js') },
  nodes: { summary: 'every node: status, last heard, deadtime, generation, links', load: () => import('./hbctl-nodes.js') },
  standby: { summary: 'give resources to the peer, as hb_standby', load: () => import('./hbctl-standby.js') },
  takeover: { summary: 'take resources from the peer, as hb_takeover', load: () => import('./hbctl-takeover.js') },
  events: { summary: 'why things happened: deaths, takeovers with their cause, agent runs (--follow, --since)', load: () => import('./hbctl-events.js') },
  metrics: { summary: 'counters (packets, bad packets, retransmissions, flaps, takeovers, agent runs) in Prometheus text format', load: () => import('./hbctl-metrics.js') },
  reload: { summary: 'reread the configuration, as SIGHUP, and say what changed', load: () => import('./hbctl-reload.js') },
  check: { summary: 'read /etc/ha.d and mon.cf as the daemon will; print path:line: problems', load: () => import('./hbctl-check.js') },
  decode: { summary: 'decode and verify a captured datagram or a pcap/pcapng capture', load: () => import('./hbctl-decode.js') },
  'export-pacemaker': { summary: 'write a Pacemaker CIB and corosync.conf from ha.cf and haresources', load: () => import('./hbctl-export-pacemaker.js') },
  cl_status: { summary: "answer as heartbeat's cl_status does", load: () => import('./cl-status.js') },
}

function usage(): string {
  const width = Math.max(...Object.keys(subcommands).map((n) => n.length))
  const lines = Object.entries(subcommands).map(([name, s]) => `  ${name.padEnd(width)}  ${s.summary}`)
  return `usage: hbctl <command> [options]   (hbctl <command> --help for its options)\ncommands:\n${lines.join('\n')}\n`
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  if (cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(usage())
    return 0
  }
  if (cmd === '--version' || cmd === '-V') {
    process.stdout.write(`hbctl ${hbVersionString()}\n`)
    return 0
  }
  if (cmd === undefined) {
    process.stderr.write(usage())
    return 2
  }
  if (cmd.startsWith('-')) {
    process.stderr.write(`hbctl: unknown option ${cmd}\n${usage()}`)
    return 2
  }
  const sub = Object.hasOwn(subcommands, cmd) ? subcommands[cmd] : undefined
  if (!sub) {
    process.stderr.write(`hbctl: unknown command ${JSON.stringify(cmd)}\n${usage()}`)
    return 2
  }
  const mod = await sub.load()
  return mod.main(rest)
}

process.exitCode = await main(process.argv.slice(2))
