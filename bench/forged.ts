// What refusing a forged datagram costs (issue 10), beside what the digest alone costs over the same
// bytes: the decoder walks the framing, computes one HMAC and stops. Printed, never asserted.
import { decodePacket } from '../lib/wire/packet.js'
import { computeDigest } from '../lib/wire/digest.js'
import type { AuthKeys, AuthMethod } from '../lib/wire/auth-keys.js'
import { forgedSet } from '../test/netns/forged-datagrams.js'
import { DEFAULT_ADMISSION, SourceAdmission } from '../lib/wire/admission.js'

const methods: Array<[AuthMethod, string]> = [
  ['sha1', 'HI!'],
  ['md5', 'Hello!'],
  ['crc', ''],
]

/**
 * µs per call of `a` and of `b`, measured in alternating small batches so that a neighbour's burst on
 * a shared core lands on both figures alike; the ratio is the figure to read.
 */
function pairedMicros(a: () => void, b: () => void, budgetMs: number): [number, number] {
  for (let i = 0; i < 20; i++) {
    a()
    b()
  }
  let aNs = 0n
  let bNs = 0n
  let calls = 0
  const start = process.hrtime.bigint()
  while (Number(process.hrtime.bigint() - start) / 1e6 < budgetMs) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < 5; i++) a()
    const t1 = process.hrtime.bigint()
    for (let i = 0; i < 5; i++) b()
    const t2 = process.hrtime.bigint()
    aNs += t1 - t0
    bNs += t2 - t1
    calls += 5
  }
  return [Number(aNs) / 1000 / calls, Number(bNs) / 1000 / calls]
}

const fmt = (x: number, width: number): string => x.toFixed(1).padStart(width)

export async function run(): Promise<void> {
  const budgetMs = Number(process.env.BENCH_MS ?? 1000)
  process.stdout.write(`forged datagrams (no key): refusal cost vs. the digest over the same bytes; measured in alternating batches, ${budgetMs} ms per pair, one core\n`)
  process.stdout.write('µs/KB = µs per 1024 bytes of datagram. "ratio" = refusal / digest (1.0 = the refusal costs what the HMAC costs).\n')
  process.stdout.write(`${'datagram'.padEnd(30)} ${'method'.padEnd(6)} ${'bytes'.padStart(6)} ${'refused as'.padEnd(14)} ${'refuse µs'.padStart(10)} ${'µs/KB'.padStart(7)} ${'digest µs/KB'.padStart(12)} ${'ratio'.padStart(6)}\n`)
  for (const [method, key] of methods) {
    const keys: AuthKeys = { active: 1, keys: new Map([[1, { method, key: Buffer.from(key, 'latin1') }]]) }
    for (const f of forgedSet()) {
      const r = decodePacket(f.bytes, keys)
      if (r.ok) throw new Error(`${f.name}: a forged datagram was accepted`)
      const key = keys.keys.get(1)?.key ?? Buffer.alloc(0)
      const [refuseUs, digestUs] = pairedMicros(() => decodePacket(f.bytes, keys), () => computeDigest(method, key, f.bytes), budgetMs)
      const kb = f.bytes.length / 1024
      process.stdout.write(
        `${f.name.padEnd(30)} ${method.padEnd(6)} ${String(f.bytes.length).padStart(6)} ${r.code.padEnd(14)} ${fmt(refuseUs, 10)} ${fmt(refuseUs / kb, 7)} ${fmt(digestUs / kb, 12)} ${(refuseUs / digestUs).toFixed(2).padStart(6)}\n`,
      )
    }
  }
  process.stdout.write('garbage is refused at its first bytes (no HMAC); classic text with more than 32 blank or auth lines is refused before the HMAC.\n')
  // Past the check budget for senders that never sent a fresh signed message (lib/wire/admission.ts),
  // a datagram is dropped unread, whatever its size: the figure to set beside the refusals above.
  const admission = new SourceAdmission({ ...DEFAULT_ADMISSION, unknownUnitsPerSec: 1 })
  const big = forgedSet()[0]?.bytes ?? Buffer.alloc(65_000)
  let now = 0
  const [dropUs, digestUs] = pairedMicros(() => admission.admit('eth0', '10.0.0.152', big.length, now++), () => computeDigest('sha1', Buffer.from('HI!'), big), budgetMs)
  process.stdout.write(`a flood past the budget (${DEFAULT_ADMISSION.unknownUnitsPerSec} units/s per link for unknown senders): dropped unread in ${dropUs.toFixed(2)} µs per datagram of ${big.length} bytes (its sha1 digest: ${digestUs.toFixed(1)} µs)\n`)
}
