// Every packet a real heartbeat 3.0.6 put on the wire: decodes, verifies, and re-encodes to the same bytes.
import t from 'tap'
import { binFiles, scenarioKeys, scenarioPackets, scenarios } from './vector-kit.js'
import { decodePacket, encodeClassicPacket, encodePacket, parseDatagram } from '../../lib/wire/packet.js'
import type { AuthKeys } from '../../lib/wire/auth-keys.js'

const typeNames = ['string', 'binary', 'struct', 'list', 'compressed', 'uncompressed']

t.test('every captured packet decodes, verifies with its scenario authkeys and re-encodes exactly', async (t) => {
  const all = scenarios()
  t.ok(all.length >= 24, `${all.length} scenarios`)
  let total = 0
  for (const scenario of all) {
    const keys = scenarioKeys(scenario)
    const packets = scenarioPackets(scenario)
    t.equal(packets.length, binFiles(scenario).length, `${scenario}: packets.json lists every .bin`)
    const active = keys.keys.get(keys.active)
    // One assertion per check per scenario (not per packet): the same coverage, far less TAP output.
    const wrong: Record<string, string[]> = { decode: [], format: [], auth: [], fields: [], trailer: [], encode: [] }
    for (const p of packets) {
      total++
      const r = decodePacket(p.bytes, keys)
      if (!r.ok) {
        wrong.decode?.push(`${p.file}: ${r.code}: ${r.reason}`)
        continue
      }
      if (r.format !== 'netstring') wrong.format?.push(p.file)
      if (r.auth.index !== keys.active || r.auth.method !== active?.method || r.auth.via !== 'trailer') wrong.auth?.push(`${p.file}: ${JSON.stringify(r.auth)}`)
      const fields = r.msg.fields.map((f) => [f.name, typeNames[f.type], f.type === 0 ? f.value.toString('latin1') : f.value.toString('hex')])
      if (JSON.stringify(fields) !== JSON.stringify(p.fields)) wrong.fields?.push(`${p.file}: ${JSON.stringify(fields)}`)
      const parsed = parseDatagram(p.bytes)
      if (!parsed.ok || parsed.format !== 'netstring' || parsed.trailer !== p.trailerAuth) wrong.trailer?.push(p.file)
      if (!encodePacket(r.msg, keys).equals(p.bytes)) wrong.encode?.push(p.file)
    }
    t.same(wrong.decode, [], `${scenario}: all ${packets.length} decode and verify with config/authkeys (auth ${keys.active})`)
    t.same(wrong.format, [], `${scenario}: netstring`)
    t.same(wrong.auth, [], `${scenario}: verified by the trailer with index ${keys.active} (${active?.method})`)
    t.same(wrong.fields, [], `${scenario}: fields equal packets.json, in wire order`)
    t.same(wrong.trailer, [], `${scenario}: trailer text equals trailer_auth`)
    t.same(wrong.encode, [], `${scenario}: encode(decode(bytes)) is the captured bytes`)
  }
  t.ok(total >= 400, `${total} packets checked`)
})

t.test('the same messages survive the classic form a glue ≤ 1.0.9 peer sends', async (t) => {
  for (const scenario of scenarios()) {
    const keys = scenarioKeys(scenario)
    for (const p of scenarioPackets(scenario).slice(0, 5)) {
      const r = decodePacket(p.bytes, keys)
      if (!r.ok) continue
      const classic = encodeClassicPacket(r.msg, keys)
      t.equal(classic.subarray(0, 4).toString('latin1'), '>>>\n')
      t.equal(classic[classic.length - 1], 0, 'ends with the NUL of strlen+1')
      const back = decodePacket(classic, keys)
      t.ok(back.ok && back.format === 'classic' && back.auth.via === 'field', `${scenario}/${p.file} classic verifies via the auth field`)
      if (back.ok) t.same(back.msg.fields, r.msg.fields, 'same fields, same auth value (the inner auth is the classic signature)')
    }
  }
})

function otherKey(keys: AuthKeys): AuthKeys {
  const k = keys.keys.get(keys.active)
  const method = k?.method === 'crc' ? 'md5' : (k?.method ?? 'sha1')
  return { active: keys.active, keys: new Map([[keys.active, { method, key: Buffer.from('not-the-key', 'latin1') }]]) }
}

t.test('a wrong key, a flipped byte, a truncated packet: each refused with a reason that says so', async (t) => {
  for (const scenario of ['sha1-legacy-steady', 'md5-legacy-steady', 'crc-legacy-steady']) {
    const keys = scenarioKeys(scenario)
    const p = scenarioPackets(scenario)[0]
    if (!p) throw new Error(`no packet in ${scenario}`)
    const method = keys.keys.get(keys.active)?.method

    if (method !== 'crc') {
      const wrong = decodePacket(p.bytes, otherKey(keys))
      t.equal(wrong.ok ? 'ok' : wrong.code, 'bad-signature', `${scenario}: wrong key`)
      if (!wrong.ok) t.match(wrong.reason, `does not verify with key index ${keys.active} (${method})`)
    } else {
      // crc has no key: a packet signed with crc verifies for any receiver that configures crc at that index.
      const wrong = decodePacket(p.bytes, otherKey(keys))
      t.equal(wrong.ok ? 'ok' : wrong.code, 'bad-signature', `${scenario}: read as md5 it fails`)
    }

    // Flip the low bit of every byte in turn: no single-bit change survives.
    let survivors = 0
    const codes = new Set<string>()
    for (let i = 0; i < p.bytes.length; i++) {
      const b = Buffer.from(p.bytes)
      b[i] = (b[i] as number) ^ 0x01
      const r = decodePacket(b, keys)
      if (r.ok) survivors++
      else codes.add(r.code)
    }
    t.equal(survivors, 0, `${scenario}: all ${p.bytes.length} single-bit flips refused`)
    t.ok(codes.has('bad-signature'), `${scenario}: flips inside values read as bad signatures (${[...codes].join(', ')})`)
    const src = p.bytes.indexOf('titanic')
    const flipped = Buffer.from(p.bytes)
    flipped[src] = 0x54 // 't' -> 'T'
    const r = decodePacket(flipped, keys)
    t.equal(r.ok ? 'ok' : r.code, 'bad-signature', `${scenario}: src altered`)
    if (!r.ok) t.match(r.reason, /signature does not verify .* altered/)

    // Every proper prefix is refused; the reason says truncated (or names the missing trailer).
    const parsed = parseDatagram(p.bytes)
    const bodyEnd = parsed.ok && parsed.format === 'netstring' ? parsed.body.length : -1
    for (let cut = 1; cut < p.bytes.length; cut++) {
      const c = decodePacket(p.bytes.subarray(0, cut), keys)
      if (c.ok) {
        t.fail(`${scenario}: prefix of ${cut} bytes accepted`)
        continue
      }
      if (cut === bodyEnd) {
        t.equal(c.code, 'no-auth', 'cut right after %%%\\n: no trailer')
        t.match(c.reason, 'no authentication trailer')
      } else if (c.code !== 'truncated' || !c.reason.startsWith('truncated')) {
        t.fail(`${scenario}: prefix of ${cut} bytes: ${c.code}: ${c.reason}`)
      }
    }
    const empty = decodePacket(p.bytes.subarray(0, 0), keys)
    t.equal(empty.ok ? 'ok' : empty.code, 'empty')
  }
})
