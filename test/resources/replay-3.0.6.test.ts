// Replays the real titanic6's captured messages (heartbeat 3.0.6, auto_failback on) into a
// ResourceManager playing titanic5 and checks it answers with what the real titanic5 sent.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ResourceManager } from '../../lib/resources/resource-manager.js'
import type { RmAction, RmEvent } from '../../lib/resources/rm-types.js'
import { getString, messageOf } from '../../lib/wire/message.js'
import type { HaMessage } from '../../lib/wire/message.js'
import { T5, T6, VIP, describe, seedGroups } from './rm-kit.js'
import { hearOwn } from './hear-own.js'

interface Packet {
  n: number
  epoch_us: number
  fields: Array<[string, string, string]>
}

const vectors = fileURLToPath(new URL('../fixtures/vectors/', import.meta.url))

function load(scenario: string): Packet[] {
  return JSON.parse(readFileSync(`${vectors}${scenario}/packets.json`, 'utf8')) as Packet[]
}

function toMsg(p: Packet): HaMessage {
  return messageOf(p.fields.filter(([, type]) => type === 'string').map(([n, , v]) => [n, v] as [string, string]))
}

const membership = new Set(['status', 'reqnodes', 'repnodes'])
const isResourceTraffic = (m: HaMessage): boolean => {
  const ty = getString(m, 't') ?? ''
  return !membership.has(ty) && !ty.startsWith('NS_')
}

/** The real node's resource messages in the order it sequenced them (seq, not wire order). */
function realSends(packets: Packet[], node: string): string[] {
  return packets
    .map(toMsg)
    .filter((m) => getString(m, 'src') === node && isResourceTraffic(m))
    .sort((a, b) => parseInt(getString(a, 'seq') ?? '0', 16) - parseInt(getString(b, 'seq') ?? '0', 16))
    .map((m) => describe(m))
}

/**
 * Drives one manager through timed inputs. Agents answer at once (the VIP and lvs state is a
 * set). The manager is ticked on heartbeat's 250 ms poll grid (polled_input_dispatch), which
 * is where 3.0.6 checks its RQSTDELAY timer.
 */
class Driver {
  readonly rm: ResourceManager
  readonly sent: HaMessage[] = []
  readonly logs: string[] = []
  readonly up = new Set<string>()
  commUp = false
  private now = 0

  constructor() {
    this.rm = new ResourceManager({ me: T5, nodes: [T5, T6], groups: seedGroups(), autoFailback: 'on' })
  }

  advance(to: number): void {
    for (;;) {
      const d = this.rm.nextDeadline()
      if (d === undefined) break
      const tick = Math.ceil(d / 250) * 250
      if (tick > to) break
      this.now = Math.max(this.now, tick)
      this.apply(hearOwn(this.rm, this.rm.tick(this.now), this.now))
    }
    this.now = Math.max(this.now, to)
  }

  feed(at: number, ev: RmEvent): void {
    this.advance(at)
    this.apply(hearOwn(this.rm, this.rm.handle(ev, this.now), this.now))
  }

  private apply(actions: RmAction[]): void {
    // Carry out a whole batch first (as the daemon does), then answer its agent calls.
    const answers: RmEvent[] = []
    for (const a of actions) {
      if (a.type === 'send') this.sent.push(a.msg)
      else if (a.type === 'log') this.logs.push(`${this.now.toFixed(1)} ${a.level}: ${a.text}`)
      else if (a.type === 'run-agent') {
        if (a.op === 'start') this.up.add(a.resource.text)
        if (a.op === 'stop') this.up.delete(a.resource.text)
        answers.push({ type: 'agent-result', id: a.id, ok: true, running: this.up.has(a.resource.text) })
      }
    }
    for (const ev of answers) this.apply(hearOwn(this.rm, this.rm.handle(ev, this.now), this.now))
  }
}

const startup = load('sha1-on-startup')
const steady = load('sha1-on-steady')
const standby = load('sha1-on-standby')
const first = startup[0]
if (first === undefined) throw new Error('empty capture')
const origin = first.epoch_us
const ms = (p: Packet): number => (p.epoch_us - origin) / 1000

/**
 * titanic5 was slow to react at start-up: its `resource` reply to titanic6's `starting` left
 * 396 ms after the request (packets 0018 -> 0020) and its reply to 0036 left 372 ms later. Its
 * 10 s RQSTDELAY timer and titanic6's `resource isstable=1` (0036) then raced within ~40 ms and
 * the message won, because 3.0.6 looks at that timer only in its 250 ms poll. We feed
 * titanic6's packets with the measured reaction lag and tick on a 250 ms grid.
 */
function reactionLag(): number {
  const byN = new Map(startup.map((p) => [p.n, p]))
  const req = byN.get(18)
  const resp = byN.get(20)
  if (req === undefined || resp === undefined) throw new Error('capture changed: packets 18/20 missing')
  return ms(resp) - ms(req)
}

function replay(d: Driver, packets: Packet[], lag: number): void {
  for (const p of packets) {
    const m = toMsg(p)
    const src = getString(m, 'src')
    const ty = getString(m, 't')
    if (src === T6) {
      if (ty === 'status') d.feed(ms(p) + lag, { type: 'node-status', node: T6, status: getString(m, 'st') ?? 'up' })
      else if (isResourceTraffic(m)) d.feed(ms(p) + lag, { type: 'message', msg: m })
    } else if (src === T5) {
      // What the real titanic5 was told to do locally, at the moment it did it.
      if (ty === 'status' && getString(m, 'st') === 'active' && !d.commUp) {
        d.commUp = true
        d.feed(ms(p), { type: 'comm-up' })
      } else if (ty === 'ask_resources' && getString(m, 'info') === 'me') {
        d.feed(ms(p), { type: 'standby', arg: 'all' })
      } else if (ty === 'hb_takeover') {
        d.feed(ms(p), { type: 'takeover', arg: 'all' })
      }
    }
  }
}

t.test('sha1-on-startup: the real titanic6 meets our titanic5', (t) => {
  const d = new Driver()
  replay(d, startup, reactionLag())
  d.advance(ms(startup[startup.length - 1] as Packet) + 1000)
  const ours = d.sent.filter(isResourceTraffic).map(describe)
  t.same(ours, realSends(startup, T5), 'titanic5 sends what the real titanic5 sent, in its sequence order')
  t.same(ours, [
    'starting',
    'resource none isstable=0',
    'resource none isstable=0',
    'resource local isstable=1',
    `ip-request-resp ipaddr=${VIP} dest=${T5} weown=yes`,
    'resource local isstable=1 info=req_our_resources()',
  ], 'the expected handshake (guards against an empty capture)')
  t.ok(d.up.has(VIP) && d.up.has('lvs'), 'the group runs on titanic5')
  t.equal(d.rm.rscStatus(), 'local', 'cl_status rscstatus says local, as the real one did')
  t.match(d.logs.join('\n'), /Initial resource acquisition complete/, 'logs the acquisition line')

  t.test('sha1-on-steady + sha1-on-standby: hb_standby then hb_takeover', (t) => {
    const before = d.sent.length
    replay(d, steady, 0)
    replay(d, standby, 0)
    d.advance(ms(standby[standby.length - 1] as Packet) + 1000)
    const ours = d.sent.slice(before).filter(isResourceTraffic).map(describe)
    t.same(ours, realSends(standby, T5), 'titanic5 sends what the real titanic5 sent during standby and takeover')
    t.equal(ours.length, 10, 'ten resource messages in the standby window')
    t.ok(d.up.has(VIP), 'the VIP is back on titanic5 after hb_takeover')
    t.equal(d.rm.rscStatus(), 'all', 'rscstatus all after taking the group back by standby')
    const log = d.logs.join('\n')
    t.match(log, /standby: titanic6\.etri\.re\.kr can take our all resources/)
    t.match(log, /Other node completed standby takeover of all resources\./)
    t.match(log, /Standby resource acquisition done \[all\]\./)
    t.end()
  })
  t.end()
})
