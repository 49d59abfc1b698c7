// A smaller run of the wire fuzzer (`npm run fuzz` does 100,000 cases): no exception escapes the decoder.
import t from 'tap'
import { fuzzDecoder, fuzzWith } from '../../bench/fuzz-wire.js'
import { parseDatagram, verifyParsed } from '../../lib/wire/packet.js'

t.test('5000 random and mutated datagrams: no exception, accepted packets re-encode', async (t) => {
  const r = fuzzDecoder(5000, 20261125)
  t.equal(r.cases, 5000)
  t.same(r.failures, [], 'no failures')
  t.comment(JSON.stringify(r.codes))
  // The mix reaches the deep checks, not only the start marker.
  for (const code of ['ok', 'bad-start', 'truncated', 'bad-length', 'bad-field', 'bad-type', 'bad-signature', 'oversize']) {
    t.ok((r.codes[code] ?? 0) > 0, `some cases end in ${code}`)
  }
})

t.test('the same seed gives the same run', async (t) => {
  t.same(fuzzDecoder(300, 7).codes, fuzzDecoder(300, 7).codes)
})

t.test('the harness reports a decoder that throws or accepts what it should not', async (t) => {
  let calls = 0
  const r = fuzzWith(50, 1, (input, keys) => {
    calls++
    if (calls % 10 === 0) throw new Error('boom')
    const parsed = parseDatagram(input)
    const result = verifyParsed(parsed, keys)
    // Every 7th case: claim an unverifiable packet is fine.
    if (calls % 7 === 0) return { parsed, result: { ok: true, msg: { fields: [{ name: 'a=b', type: 0, value: Buffer.from('x') }] }, format: 'netstring', auth: { index: 1, method: 'sha1', via: 'trailer' } } }
    return { parsed, result }
  })
  t.ok(r.failures.some((f) => f.includes('exception escaped the decoder: Error: boom')), 'exceptions reported')
  t.ok(r.failures.some((f) => /re-encode|cannot be re-encoded/.test(f)), 'bogus acceptance reported')
})
