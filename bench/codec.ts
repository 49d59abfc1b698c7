// Codec speed on one core: decode + verify and sign + encode of a status packet, per auth method. Printed, not asserted.
import { decodePacket, encodePacket } from '../lib/wire/packet.js'
import { binaryField, stringField } from '../lib/wire/message.js'
import type { HaMessage } from '../lib/wire/message.js'
import type { AuthKeys, AuthMethod } from '../lib/wire/auth-keys.js'

// A status heartbeat as titanic5 sends it every keepalive (fields of the captured vectors).
const status: HaMessage = {
  fields: [
    stringField('t', 'status'),
    stringField('st', 'active'),
    stringField('dt', '1388'),
    stringField('protocol', '1'),
    stringField('src', 'titanic5.etri.re.kr'),
    binaryField('srcuuid', Buffer.from('0935e5ab26184f5fb64e9e111a1a68bd', 'hex')),
    stringField('seq', '2a'),
    stringField('hg', '6b07193e'),
    stringField('ts', '6b07193d'),
    stringField('ld', '3.35 3.01 2.18 3/109 16481'),
    stringField('ttl', '3'),
  ],
}

const methods: Array<[AuthMethod, string]> = [
  ['sha1', 'HI!'],
  ['md5', 'Hello!'],
  ['crc', ''],
]

/** Runs `fn` in batches until `budgetMs` has passed; returns calls per second. */
function rate(fn: () => void, budgetMs: number): number {
  for (let i = 0; i < 200; i++) fn() // warm-up
  let calls = 0
  const start = process.hrtime.bigint()
  let elapsedMs = 0
  while (elapsedMs < budgetMs) {
    for (let i = 0; i < 500; i++) fn()
    calls += 500
    elapsedMs = Number(process.hrtime.bigint() - start) / 1e6
  }
  return (calls * 1000) / elapsedMs
}

export async function run(): Promise<void> {
  const budgetMs = Number(process.env.BENCH_MS ?? 1000)
  process.stdout.write(`status packet, ${budgetMs} ms per figure, one core (single thread)\n`)
  process.stdout.write('method  bytes  decode+verify msg/s  sign+encode msg/s\n')
  for (const [method, key] of methods) {
    const keys: AuthKeys = { active: 1, keys: new Map([[1, { method, key: Buffer.from(key, 'latin1') }]]) }
    const packet = encodePacket(status, keys)
    const check = decodePacket(packet, keys)
    if (!check.ok) throw new Error(`bench packet does not verify: ${check.reason}`)
    const decodeRate = rate(() => {
      decodePacket(packet, keys)
    }, budgetMs)
    const encodeRate = rate(() => {
      encodePacket(status, keys)
    }, budgetMs)
    process.stdout.write(
      `${method.padEnd(6)}  ${String(packet.length).padStart(5)}  ${Math.round(decodeRate).toLocaleString('en-US').padStart(19)}  ${Math.round(encodeRate).toLocaleString('en-US').padStart(17)}\n`,
    )
  }
}
