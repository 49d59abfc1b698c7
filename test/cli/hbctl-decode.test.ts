// hbctl decode on captured datagrams: fields in wire order, the verdict, and the exit status an admin scripts on.
import t from 'tap'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { execa } from 'execa'
import { main } from '../../lib/cli/hbctl-decode.js'
import type { DecodeIo } from '../../lib/cli/hbctl-decode.js'
import { encodeClassicPacket } from '../../lib/wire/packet.js'
import { stringField } from '../../lib/wire/message.js'
import { scenarioPackets, VECTORS_DIR } from '../wire/vector-kit.js'
import { keysOf } from '../wire/wire-kit.js'

const REPO = new URL('../../', import.meta.url).pathname
const packet = scenarioPackets('sha1-on-startup')[0]
if (!packet) throw new Error('fixture packet missing')
const packetPath = join(VECTORS_DIR, 'sha1-on-startup', packet.file)

function fakeIo(stdin: Buffer = Buffer.alloc(0)): DecodeIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (s: string) => void (io.out += s),
    stderr: (s: string) => void (io.err += s),
    readStdin: async () => stdin,
  }
  return io
}

function keyFile(dir: string, text: string, mode = 0o600): string {
  const p = join(dir, `authkeys-${Math.random().toString(36).slice(2)}`)
  writeFileSync(p, text)
  chmodSync(p, mode)
  return p
}

t.test('an authentic capture: fields in wire order, hex counters in decimal, exit 0', async (t) => {
  const dir = t.testdir({})
  const keys = keyFile(dir, readFileSync(join(VECTORS_DIR, 'sha1-on-startup', 'config', 'authkeys'), 'latin1'))
  const io = fakeIo()
  t.equal(await main(['--authkeys', keys, packetPath], io), 0)
  const lines = io.out.split('\n')
  t.equal(lines[0], 'netstring datagram, 323 bytes, 12 fields')
  const shown = lines.slice(1, 1 + packet.fields.length).map((l) => l.trim().replace(/ {2}\(.*\)$/, ''))
  t.same(
    shown,
    packet.fields.map(([n, type, v]) => (type === 'binary' ? `(1)${n}=${v}` : `${n}=${v}`)),
    'every field, in wire order, binary as hex',
  )
  t.match(io.out, 'dt=1b58  (7000)')
  t.match(io.out, 'seq=1  (1)')
  t.match(io.out, `trailer: ${packet.trailerAuth}`)
  t.match(io.out, /authentic: yes, the netstring trailer verifies with key index 1 \(sha1\)/)
  t.equal(io.err, '')
})

t.test('--json carries the same fields as packets.json and the verdict', async (t) => {
  const dir = t.testdir({})
  const keys = keyFile(dir, 'auth 1\n1 sha1 HI!\n')
  const io = fakeIo()
  t.equal(await main(['--json', '--authkeys', keys, packetPath], io), 0)
  const j = JSON.parse(io.out) as { fields: unknown; authentic: boolean; auth: unknown; trailer: string; format: string; error: unknown }
  t.same(j.fields, packet.fields)
  t.equal(j.format, 'netstring')
  t.equal(j.trailer, packet.trailerAuth)
  t.equal(j.authentic, true)
  t.same(j.auth, { index: 1, method: 'sha1', via: 'trailer' })
  t.equal(j.error, null)
})

t.test('a wrong key: fields still shown, the reason names index and method, exit 1', async (t) => {
  const dir = t.testdir({})
  const io = fakeIo(packet.bytes)
  t.equal(await main(['--authkeys', keyFile(dir, 'auth 1\n1 sha1 wrong\n'), '-'], io), 1, 'read from stdin')
  t.match(io.out, 'src=titanic5.etri.re.kr')
  t.match(io.out, /authentic: NO \(bad-signature\): the trailer signature does not verify with key index 1 \(sha1\)/)
  const json = fakeIo(packet.bytes)
  t.equal(await main(['--json', '--authkeys', keyFile(dir, 'auth 3\n3 md5 Hello!\n')], json), 1)
  t.match(JSON.parse(json.out), { authentic: false, error: { code: 'unknown-key-index' } })
})

t.test('a classic datagram verifies through its auth field', async (t) => {
  const dir = t.testdir({})
  const keys = keysOf(2, [2, 'md5', 'secret'])
  const file = join(dir, 'classic.bin')
  writeFileSync(file, encodeClassicPacket({ fields: [stringField('t', 'status'), stringField('info', 'two\nlines')] }, keys))
  const io = fakeIo()
  t.equal(await main(['--authkeys', keyFile(dir, 'auth 2\n2 md5 secret\n'), file], io), 0)
  t.match(io.out, /^classic datagram, \d+ bytes, 3 fields/)
  t.match(io.out, 'info="two\\nlines"')
  t.match(io.out, 'authentic: yes, the classic auth field verifies with key index 2 (md5)')
})

t.test('junk, truncation, unreadable or refused keys, usage errors', async (t) => {
  const dir = t.testdir({ 'junk.bin': 'GET / HTTP/1.0\r\n\r\n' })
  const keys = keyFile(dir, 'auth 1\n1 sha1 HI!\n')
  const junk = fakeIo()
  t.equal(await main(['--authkeys', keys, join(dir, 'junk.bin')], junk), 1)
  t.match(junk.out, /18 bytes, not a valid heartbeat datagram \(bad-start\)/)

  const cut = fakeIo(packet.bytes.subarray(0, 200))
  t.equal(await main(['--authkeys', keys], cut), 1)
  t.match(cut.out, /\(truncated\): truncated/)

  const missing = fakeIo()
  t.equal(await main(['--authkeys', join(dir, 'nope'), packetPath], missing), 1)
  t.match(missing.out, 'src=titanic5.etri.re.kr')
  t.match(missing.out, /authentic: not checked: cannot read .*nope: no such file/)

  // Decoding offline is not the daemon starting: a key file others can read is used, with a warning.
  const open = fakeIo()
  t.equal(await main(['--authkeys', keyFile(dir, 'auth 1\n1 sha1 HI!\n', 0o644), packetPath], open), 0)
  t.match(open.err, /warning: mode 0644 lets other users read the keys \(the daemon refuses it: chmod 600 /)
  t.match(open.out, 'authentic: yes')
  const broken = fakeIo()
  t.equal(await main(['--authkeys', keyFile(dir, 'auth 2\n1 sha1 HI!\n', 0o644), packetPath], broken), 1, 'a key file with real errors is still refused')
  t.match(broken.out, 'authentic: not checked: heartbeat would refuse')

  const two = fakeIo()
  t.equal(await main([packetPath, packetPath], two), 2)
  t.match(two.err, 'one datagram at a time')
  const bad = fakeIo()
  t.equal(await main(['--bogus'], bad), 2)
  t.match(bad.err, 'usage: hbctl decode')
  const nofile = fakeIo()
  t.equal(await main([join(dir, 'absent.bin')], nofile), 2)
  t.match(nofile.err, 'no such file')
  const help = fakeIo()
  t.equal(await main(['-h'], help), 0)
  t.match(help.out, 'usage: hbctl decode')
})

t.test('the built hbctl binary decodes a capture (what an admin runs)', async (t) => {
  const bin = join(REPO, 'dist/lib/cli/hbctl.js')
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first (npm test does)`)
  const dir = t.testdir({})
  const r = await execa(process.execPath, [bin, 'decode', '--authkeys', keyFile(dir, 'auth 1\n1 sha1 HI!\n'), packetPath], { reject: false, timeout: 20_000 })
  t.equal(r.exitCode, 0)
  t.match(r.stdout, 'authentic: yes')
})
