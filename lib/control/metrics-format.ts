// hbctl metrics and the node_exporter textfile: the daemon's counters in the Prometheus text
// exposition format (version 0.0.4). Names start heartbeat_; every value is a counter since the
// daemon's current life began, except the gauges marked so.

import type { MembershipCounters } from '../cluster/membership-snapshot.js'

/** What the node core counts (NodeCore.coreCounters() gives this shape). */
export interface CoreCounters {
  nodeDeaths: number
  linkDown: number
  linkUp: number
  takeovers: number
  releases: number
  /** By `op ok|failed`. */
  agentRuns: Record<string, number>
  /** ms by op. */
  agentDurationMs: Record<string, number>
}

export interface MetricsInput {
  node: string
  membership: MembershipCounters
  /** Datagrams refused before or at their HMAC, by the codec's reason. */
  badPackets: ReadonlyMap<string, number>
  sendErrors: number
  core: CoreCounters
  /** Gauges: nodes by status, links up. */
  nodesUp: number
  linksUp: number
  /** Event journal lines dropped, notify hooks skipped. */
  journalDropped: number
  notifySkipped?: number
}

/** A label value with \\, " and newline escaped as the format asks. */
function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

export function formatMetrics(m: MetricsInput): string {
  const out: string[] = []
  const node = `node="${esc(m.node)}"`
  const family = (name: string, type: 'counter' | 'gauge', help: string, samples: Array<[labels: string, value: number]>): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    for (const [labels, value] of samples) out.push(`${name}{${[node, labels].filter((x) => x !== '').join(',')}} ${Number.isFinite(value) ? value : 0}`)
  }
  const c = m.membership
  family('heartbeat_packets_received_total', 'counter', 'Authenticated heartbeat messages received.', [['', c.received]])
  family('heartbeat_packets_delivered_total', 'counter', 'Messages delivered in order to the resource manager.', [['', c.delivered]])
  family('heartbeat_packets_duplicate_total', 'counter', 'Messages received again (another link or a resend).', [['', c.duplicates]])
  family(
    'heartbeat_bad_packets_total',
    'counter',
    'Datagrams refused (bad authentication, malformed …) by reason.',
    [...m.badPackets].map(([reason, n]) => [`reason="${esc(reason)}"`, n]),
  )
  family(
    'heartbeat_packets_dropped_total',
    'counter',
    'Authenticated messages dropped by the receive filter, by reason.',
    Object.entries(c.dropped).map(([reason, n]) => [`reason="${esc(reason)}"`, n]),
  )
  family('heartbeat_packets_lost_total', 'counter', 'Sequence numbers found missing.', [['', c.lostPackets]])
  family('heartbeat_packets_recovered_total', 'counter', 'Missing sequence numbers that arrived later.', [['', c.recovered]])
  family('heartbeat_rexmit_requests_total', 'counter', 'Retransmission requests sent.', [['', c.rexmitRequestsSent]])
  family('heartbeat_retransmissions_total', 'counter', 'Our messages resent on request.', [['', c.retransmissions]])
  family('heartbeat_naks_sent_total', 'counter', 'NAKs sent (asked for a message we no longer have).', [['', c.naksSent]])
  family('heartbeat_send_errors_total', 'counter', 'Datagrams the kernel refused to send.', [['', m.sendErrors]])
  family('heartbeat_node_deaths_total', 'counter', 'Peers declared dead.', [['', m.core.nodeDeaths]])
  family('heartbeat_link_transitions_total', 'counter', 'Link flaps: a link to a peer going down or up.', [
    ['state="dead"', m.core.linkDown],
    ['state="up"', m.core.linkUp],
  ])
  family('heartbeat_takeovers_total', 'counter', 'Resource groups this node began to start.', [['', m.core.takeovers]])
  family('heartbeat_releases_total', 'counter', 'Resource groups this node began to stop.', [['', m.core.releases]])
  family(
    'heartbeat_agent_runs_total',
    'counter',
    'Resource agent runs by operation and outcome.',
    Object.entries(m.core.agentRuns).map(([k, n]) => {
      const [op, outcome] = k.split(' ')
      return [`op="${esc(op ?? '?')}",outcome="${esc(outcome ?? '?')}"`, n]
    }),
  )
  family(
    'heartbeat_agent_duration_seconds_total',
    'counter',
    'Time spent in resource agents by operation.',
    Object.entries(m.core.agentDurationMs).map(([op, v]) => [`op="${esc(op)}"`, v / 1000]),
  )
  family('heartbeat_journal_dropped_total', 'counter', 'Event history lines dropped because the disk did not keep up.', [['', m.journalDropped]])
  if (m.notifySkipped !== undefined) family('heartbeat_notify_skipped_total', 'counter', 'Notify hooks not run: too many still running.', [['', m.notifySkipped]])
  family('heartbeat_nodes_up', 'gauge', 'Peers not dead.', [['', m.nodesUp]])
  family('heartbeat_links_up', 'gauge', 'Links to peers that are up.', [['', m.linksUp]])
  return `${out.join('\n')}\n`
}
