// Issue 10's flood: a keyless host sends forged datagrams and replays of captured packets faster than a
// loop can check them, and the kernel then drops the peer's heartbeats with the rest (the flood test saw
// both directors declare each other dead once). The peer's address, known from its fresh messages,
// is always checked; everything else shares a small budget of checks and past it is dropped unread.
import t from 'tap'
import { LifeWire } from '../../lib/daemon/life-wire.js'
import type { Datagram } from '../../lib/io/udp-media.js'
import { SourceAdmission, checkCost, DEFAULT_ADMISSION } from '../../lib/wire/admission.js'
import type { AuthKeys } from '../../lib/wire/auth-keys.js'
import { getString, messageOf, type HaMessage } from '../../lib/wire/message.js'
import { encodePacket } from '../../lib/wire/packet.js'
import { forgedSet } from '../netns/forged-datagrams.js'

const KEYS: AuthKeys = { active: 1, keys: new Map([[1, { method: 'sha1', key: Buffer.from('HI!', 'latin1') }]]) }
const PEER = '10.0.0.6'
const FLOODER = '10.0.0.152'

function status(seq: number): Buffer {
  return encodePacket(messageOf([['t', 'status'], ['st', 'active'], ['src', 'titanic6'], ['seq', seq.toString(16)], ['hg', '6b104300'], ['ts', '6b104300']]), KEYS)
}

/** A LifeWire whose "membership" keeps a status as news when its seq is new (as the real one does). */
function wireUnderTest(): { wire: LifeWire; now: { ms: number }; delivered: HaMessage[]; logs: string[]; admission: SourceAdmission } {
  const now = { ms: 0 }
  const delivered: HaMessage[] = []
  const logs: string[] = []
  const seen = new Set<string>()
  const admission = new SourceAdmission()
  const wire = new LifeWire({
    media: { descriptions: [], links: ['eth0'], send: () => undefined, close: async () => undefined },
    keys: KEYS,
    classic: false,
    logBadpack: true,
    watchdog: undefined,
    nowMs: () => now.ms,
    say: (_level, text) => void logs.push(text),
    admission,
    received: (msg) => {
      delivered.push(msg)
      const seq = getString(msg, 'seq') ?? ''
      const news = !seen.has(seq)
      seen.add(seq)
      return news
    },
  })
  return { wire, now, delivered, logs, admission }
}

const from = (addr: string, data: Buffer): Datagram => ({ link: 'eth0', data, from: addr, fromPort: 694 })

t.test('under a flood far past the check budget, every heartbeat of the known peer is still checked and delivered', async (t) => {
  const { wire, now, delivered, logs } = wireUnderTest()
  const forged = forgedSet().map((f) => f.bytes)
  const replay = status(1)
  wire.receive(from(PEER, status(1)))
  t.equal(delivered.length, 1, "the peer's first status is checked (budget left) and makes its address known")
  let seq = 2
  let floodSent = 0
  // 10 s of virtual time: 20,000 flood datagrams a second (forgeries and a replay of the peer's own
  // first status from the flooder), the peer's status every 200 ms.
  for (let ms = 0; ms < 10_000; ms++) {
    now.ms = ms
    for (let i = 0; i < 20; i++) {
      wire.receive(from(FLOODER, i % 2 === 0 ? replay : (forged[(ms + i) % forged.length] as Buffer)))
      floodSent++
    }
    if (ms % 200 === 0) wire.receive(from(PEER, status(seq++)))
  }
  const peerStatuses = delivered.filter((m) => getString(m, 'src') === 'titanic6' && getString(m, 'seq') !== '1')
  t.equal(peerStatuses.length, seq - 2, `all ${seq - 2} of the peer's later statuses were delivered among ${floodSent} flood datagrams`)
  const unchecked = wire.badPackets.get('unchecked') ?? 0
  const checkedFlood = floodSent - unchecked
  // the budget: 2000 units a second, a replay costs 1, a forgery 1 + its KiB
  t.ok(checkedFlood <= (DEFAULT_ADMISSION.unknownUnitsPerSec * 11), `only ${checkedFlood} of ${floodSent} flood datagrams were checked`)
  t.ok(unchecked > floodSent * 0.85, `${unchecked} were dropped unread`)
  t.ok(
    logs.some((l) => l.includes(`datagram from ${FLOODER} dropped unchecked`)),
    'the log says a flood is being shed, and from where',
  )
  t.ok(logs.length < 40, `the log stays quiet: ${logs.length} lines in 10 s`)
})

t.test('authentic replays never make the flooding address known', async (t) => {
  const { wire, now, delivered } = wireUnderTest()
  wire.receive(from(PEER, status(1)))
  const replay = status(1)
  for (let i = 0; i < 5000; i++) wire.receive(from(FLOODER, replay))
  const checked = delivered.length - 1
  t.ok(checked <= DEFAULT_ADMISSION.unknownUnitsPerSec, `${checked} replays checked in one instant: no more than the budget`)
  now.ms = 500
  for (let i = 0; i < 5000; i++) wire.receive(from(FLOODER, replay))
  t.ok(delivered.length - 1 - checked <= DEFAULT_ADMISSION.unknownUnitsPerSec / 2 + 1, 'half a second later: half the budget more')
})

t.test('an unknown sender is checked while the budget lasts; the budget refills with time; known addresses expire', async (t) => {
  const a = new SourceAdmission({ unknownUnitsPerSec: 10, knownForMs: 1000, maxKnown: 2 })
  let admitted = 0
  for (let i = 0; i < 50; i++) if (a.admit('eth0', 'x', 100, 0)) admitted++
  t.equal(admitted, 10, 'ten small datagrams fit a budget of ten')
  t.notOk(a.admit('eth0', 'x', 100, 50), 'nothing left 50 ms later (half a unit refilled)')
  t.ok(a.admit('eth0', 'x', 100, 150), 'one unit back after 100 ms')
  t.equal(checkCost(64 * 1024), 65, 'a 64 KiB datagram costs 65 units')
  t.notOk(a.admit('eth0', 'y', 64 * 1024, 5000), 'a 64 KiB forgery never fits a budget of 10')
  a.heardFresh('peer', 5000)
  t.ok(a.admit('eth0', 'peer', 64 * 1024, 5500), 'a known address is admitted whatever the budget')
  t.notOk(a.admit('eth0', 'peer', 64 * 1024, 6100), 'after knownForMs without a fresh message it is unknown again')
  a.heardFresh('p1', 7000)
  a.heardFresh('p2', 7000)
  a.heardFresh('p3', 7000)
  t.notOk(a.admit('eth0', 'p1', 64 * 1024, 7000), 'the table is bounded: the oldest known address is forgotten')
  t.ok(a.admit('eth0', 'p3', 64 * 1024, 7000))
  let other = 0
  for (let i = 0; i < 50; i++) if (a.admit('eth1', 'z', 100, 7000)) other++
  t.equal(other, 10, 'a flood that used up eth0\'s budget leaves eth1 its own')
})
