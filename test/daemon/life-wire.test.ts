// What LifeWire puts on serial lines (issue 12 point 3): each message as classic text signed in its
// auth field, as 3.0.6's serial plugin writes it; status copies kept off the line; frames the reader
// dropped counted and complained about like bad packets.
import t from 'tap'
import { LifeWire } from '../../lib/daemon/life-wire.js'
import { SourceAdmission } from '../../lib/wire/admission.js'
import type { Media } from '../../lib/io/udp-media.js'
import { messageOf } from '../../lib/wire/message.js'
import { decodePacket } from '../../lib/wire/packet.js'
import { sha1Keys } from '../wire/wire-kit.js'

function setup(): { wire: LifeWire; udp: Buffer[]; serial: Buffer[]; said: string[]; clock: { now: number } } {
  const udp: Buffer[] = []
  const serial: Buffer[] = []
  const said: string[] = []
  const clock = { now: 0 }
  const media: Media = {
    descriptions: [],
    links: ['eth0', '/dev/ttyS0'],
    send(data, classic) {
      udp.push(data)
      const text = classic?.()
      if (text !== undefined) serial.push(text)
    },
    close: async () => undefined,
  }
  const wire = new LifeWire({
    media,
    keys: sha1Keys,
    classic: true,
    logBadpack: true,
    watchdog: undefined,
    nowMs: () => clock.now,
    serialRepeatMs: 1000,
    say: (level, text) => said.push(`${level}: ${text}`),
    received: () => true,
    admission: new SourceAdmission(),
  })
  return { wire, udp, serial, said, clock }
}

const status = messageOf([['t', 'status'], ['st', 'active'], ['src', 'titanic5.etri.re.kr'], ['seq', '12'], ['hg', '3'], ['ts', '692e0f00']])

t.test('a message goes out on serial lines as signed classic text, once per keepalive however many copies', async (t) => {
  const { wire, udp, serial, clock } = setup()
  for (const at of [0, 333, 666]) {
    clock.now = at
    wire.transmit(status)
  }
  t.equal(udp.length, 3, 'every copy on the UDP media')
  t.equal(serial.length, 1, 'one on the serial line')
  const text = serial[0]?.toString('latin1') ?? ''
  t.match(text, /^>>>\nt=status\n[^]*\nauth=1 [0-9a-f]{40}\n<<<\n$/, 'classic text, auth field last, no NUL')
  const d = decodePacket(serial[0] ?? Buffer.alloc(0), sha1Keys)
  t.ok(d.ok && d.auth.via === 'field', 'it verifies by its auth field, as a 3.0.6 reader checks it')
  clock.now = 1000
  wire.transmit(status)
  t.equal(serial.length, 2, 'asked again a keepalive later (a retransmission): it goes on the line again')
})

t.test('a dropped frame is a bad packet: counted, and complained about with log_badpack', async (t) => {
  const { wire, said } = setup()
  wire.badFrame('/dev/ttyS0', 'frame longer than 65507 bytes')
  t.equal(wire.badPackets.get('bad-frame'), 1, 'counted')
  t.match(said.join('\n'), /bad frame on \/dev\/ttyS0: frame longer than 65507 bytes \(bad-frame 1 so far\)/, 'logged with the link and the reason')
})
