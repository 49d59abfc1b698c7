// Wire decoder fuzzing: random bytes and mutations of the captured vectors; nothing may escape, accepted packets must re-encode.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encodeClassicPacket, encodePacket, parseDatagram, verifyParsed } from '../lib/wire/packet.js'
import type { DecodeResult, ParsedDatagram } from '../lib/wire/packet.js'
import { encodeNetstringMessage } from '../lib/wire/netstring.js'
import { classicFieldProblem, encodeClassicText, parseClassicText } from '../lib/wire/classic.js'
import { binaryField, stringField } from '../lib/wire/message.js'
import type { Field, HaMessage } from '../lib/wire/message.js'
import type { AuthKeys, AuthMethod } from '../lib/wire/auth-keys.js'
import { seededRandom } from '../test/support/seeded-random.js'
import { sampleStatus } from './sample-status.js'

export interface FuzzResult {
  cases: number
  failures: string[]
  /** How many cases ended in each result code ('ok' for accepted): shows the fuzzer reaches every check. */
  codes: Record<string, number>
}

interface Seed {
  bytes: Buffer
  keys: AuthKeys
}

type Rng = () => number

const rngOf: (seed: number) => Rng = seededRandom

const int = (rng: Rng, n: number): number => Math.floor(rng() * n)

function keysOf(index: number, method: AuthMethod, key: string): AuthKeys {
  return { active: index, keys: new Map([[index, { method, key: Buffer.from(key, 'latin1') }]]) }
}

// The vectors' authkeys (test/fixtures/vectors/*/config/authkeys).
const vectorKeys: Record<string, AuthKeys> = {
  sha1: keysOf(1, 'sha1', 'HI!'),
  md5: keysOf(3, 'md5', 'Hello!'),
  crc: keysOf(1, 'crc', ''),
}

function vectorsDir(): string | undefined {
  const here = fileURLToPath(new URL('.', import.meta.url))
  // bench/ when run as .ts, dist/bench/ when built.
  for (const rel of ['../test/fixtures/vectors', '../../test/fixtures/vectors']) {
    const dir = join(here, rel)
    if (existsSync(dir)) return dir
  }
  return undefined
}

let cachedVectors: Seed[] | undefined

function vectorSeeds(): Seed[] {
  if (cachedVectors) return cachedVectors
  const out: Seed[] = []
  const dir = vectorsDir()
  if (dir) {
    for (const scenario of readdirSync(dir).sort()) {
      const keys = vectorKeys[scenario.split('-')[0] ?? '']
      const packets = join(dir, scenario, 'packets')
      if (!keys || !existsSync(packets)) continue
      for (const f of readdirSync(packets).sort()) if (f.endsWith('.bin')) out.push({ bytes: readFileSync(join(packets, f)), keys })
    }
  }
  cachedVectors = out
  return out
}

function syntheticSeeds(): Seed[] {
  const status = sampleStatus
  const odd: HaMessage = {
    fields: [
      stringField('t', 'resource'),
      stringField('info', 'two\nlines, with: commas=and equals'),
      stringField('empty', ''),
      binaryField('destuuid', Buffer.from(',:\n=()%#>0123456', 'latin1')),
    ],
  }
  const nested: Field = { name: 'child', type: 2, value: encodeNetstringMessage(status.fields.slice(0, 3)) }
  const out: Seed[] = []
  for (const keys of Object.values(vectorKeys)) {
    out.push({ bytes: encodePacket(status, keys), keys })
    out.push({ bytes: encodePacket(odd, keys), keys })
    out.push({ bytes: encodePacket({ fields: [...odd.fields, nested] }, keys), keys })
    out.push({ bytes: encodeClassicPacket(status, keys), keys })
    out.push({ bytes: encodeClassicPacket(odd, keys, { trailingNul: false }), keys })
  }
  return out
}

const SPECIAL = Buffer.from(',:=()\n\r%#<>\0 0123456789', 'latin1')

function mutateOnce(rng: Rng, input: Buffer, other: Buffer): Buffer {
  const n = input.length
  switch (int(rng, 10)) {
    case 0: {
      // bit flips
      const b = Buffer.from(input)
      for (let k = 1 + int(rng, 4); k > 0 && n > 0; k--) {
        const i = int(rng, n)
        b[i] = (b[i] as number) ^ (1 << int(rng, 8))
      }
      return b
    }
    case 1:
      return input.subarray(0, int(rng, n + 1))
    case 2:
      return Buffer.concat([input.subarray(0, int(rng, n + 1)), other.subarray(int(rng, other.length + 1))])
    case 3: {
      // length edits: rewrite one decimal run that precedes ':'
      const s = input.toString('latin1')
      const runs = [...s.matchAll(/\d+(?=:)/g)]
      const run = runs[int(rng, runs.length)]
      if (!run || run.index === undefined) return input
      const v = Number(run[0])
      const choices = [v + 1, v - 1, v + 1 + int(rng, 50), Math.max(0, v - 1 - int(rng, 50)), 0, 99999999999]
      let text = String(choices[int(rng, choices.length)])
      if (rng() < 0.15) text = `0${text}`
      if (rng() < 0.05) text = ''
      return Buffer.from(s.slice(0, run.index) + text + s.slice(run.index + run[0].length), 'latin1')
    }
    case 4: {
      const at = int(rng, n + 1)
      const ins = Buffer.from(Array.from({ length: 1 + int(rng, 8) }, () => (rng() < 0.5 ? (SPECIAL[int(rng, SPECIAL.length)] as number) : int(rng, 256))))
      return Buffer.concat([input.subarray(0, at), ins, input.subarray(at)])
    }
    case 5: {
      const at = int(rng, n + 1)
      return Buffer.concat([input.subarray(0, at), input.subarray(Math.min(n, at + 1 + int(rng, 16)))])
    }
    case 6: {
      const at = int(rng, n + 1)
      const len = int(rng, 32)
      return Buffer.concat([input.subarray(0, at), input.subarray(at, at + len), input.subarray(at)])
    }
    case 7: {
      // type digits: "(d)" -> another byte
      const b = Buffer.from(input)
      const s = b.toString('latin1')
      const hits = [...s.matchAll(/\((\d)\)/g)]
      const hit = hits[int(rng, hits.length)]
      if (!hit || hit.index === undefined) return input
      b[hit.index + 1 + (rng() < 0.8 ? 0 : rng() < 0.5 ? -1 : 1)] = rng() < 0.7 ? 0x30 + int(rng, 10) : (SPECIAL[int(rng, SPECIAL.length)] as number)
      return b
    }
    case 8:
      return Buffer.concat([input, Buffer.from(Array.from({ length: int(rng, 16) }, () => int(rng, 256)))])
    default: {
      const b = Buffer.from(input)
      if (n > 0) b[int(rng, n)] = SPECIAL[int(rng, SPECIAL.length)] as number
      return b
    }
  }
}

function randomInput(rng: Rng): Buffer {
  const prefixes = ['', '###\n', '>>>\n', '###\n8:(0)t=abc,', '>>>\nt=status\n']
  const prefix = Buffer.from(prefixes[int(rng, prefixes.length)] as string, 'latin1')
  const body = Buffer.from(Array.from({ length: int(rng, 400) }, () => (rng() < 0.3 ? (SPECIAL[int(rng, SPECIAL.length)] as number) : int(rng, 256))))
  return Buffer.concat([prefix, body])
}

function fieldsEqual(a: readonly Field[], b: readonly Field[]): boolean {
  return a.length === b.length && a.every((f, i) => f.name === b[i]?.name && f.type === b[i]?.type && f.value.equals(b[i]?.value ?? Buffer.alloc(0)))
}

const hex = (b: Buffer): string => (b.length > 96 ? `${b.subarray(0, 96).toString('hex')}…(${b.length} bytes)` : b.toString('hex'))

const KNOWN = new Set(['empty', 'oversize', 'bad-start', 'truncated', 'bad-length', 'bad-field', 'bad-type', 'bad-value', 'no-auth', 'bad-auth', 'unknown-key-index', 'bad-signature'])

/** What an accepted packet must satisfy; returns the problem or undefined. */
function checkAccepted(input: Buffer, parsed: ParsedDatagram, result: DecodeResult & { ok: true }, keys: AuthKeys): string | undefined {
  if (parsed.ok && parsed.format === 'netstring' && !encodeNetstringMessage(result.msg.fields).equals(Buffer.from(parsed.body))) {
    return 'accepted netstring body does not re-encode to the same bytes'
  }
  const reKeys: AuthKeys = { active: result.auth.index, keys: keys.keys }
  let again: Buffer
  try {
    again = encodePacket(result.msg, reKeys, { innerAuth: false })
  } catch (err) {
    return `accepted message cannot be re-encoded: ${err instanceof Error ? err.message : String(err)}`
  }
  const back = verifyParsed(parseDatagram(again), reKeys)
  if (!back.ok) return `re-encoded packet is refused: ${back.code}: ${back.reason}`
  if (!fieldsEqual(back.msg.fields, result.msg.fields)) return 're-encoded packet decodes to different fields'
  if (result.format === 'classic' && result.msg.fields.every((f) => !classicFieldProblem(f))) {
    const c = parseClassicText(encodeClassicText(result.msg))
    if (!c.ok || !fieldsEqual(c.msg.fields, result.msg.fields)) return 'accepted classic message does not survive a classic round trip'
  }
  void input
  return undefined
}

/** The harness, with the decoder injectable so a test can prove a throwing decoder is caught. */
export function fuzzWith(count: number, seed: number, decode: (input: Buffer, keys: AuthKeys) => { parsed: ParsedDatagram; result: DecodeResult }): FuzzResult {
  const rng = rngOf(seed)
  const corpus = [...vectorSeeds(), ...syntheticSeeds()]
  const failures: string[] = []
  const codes: Record<string, number> = {}
  for (let i = 0; i < count; i++) {
    const base = corpus[int(rng, corpus.length)] as Seed
    let input: Buffer
    const pick = rng()
    if (pick < 0.1) input = randomInput(rng)
    else if (pick < 0.12) input = base.bytes
    else if (pick < 0.125) input = Buffer.concat([base.bytes, Buffer.alloc(65508 + int(rng, 5000), 0x41)])
    else {
      input = base.bytes
      const other = (corpus[int(rng, corpus.length)] as Seed).bytes
      for (let k = rng() < 0.7 ? 1 : 2 + int(rng, 3); k > 0; k--) input = mutateOnce(rng, input, other)
    }
    const where = `case ${i} (seed ${seed}) input ${hex(input)}`
    let parsed: ParsedDatagram
    let result: DecodeResult
    try {
      ;({ parsed, result } = decode(input, base.keys))
    } catch (err) {
      failures.push(`${where}: exception escaped the decoder: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
      continue
    }
    const code = result.ok ? 'ok' : result.code
    codes[code] = (codes[code] ?? 0) + 1
    if (!result.ok) {
      if (!KNOWN.has(result.code) || typeof result.reason !== 'string' || result.reason.length === 0) {
        failures.push(`${where}: malformed refusal ${JSON.stringify(result)}`)
      }
      continue
    }
    let problem: string | undefined
    try {
      problem = checkAccepted(input, parsed, result, base.keys)
    } catch (err) {
      problem = `exception while checking an accepted packet: ${err instanceof Error ? err.message : String(err)}`
    }
    if (problem) failures.push(`${where}: ${problem}`)
  }
  return { cases: count, failures, codes }
}

/** `npm run fuzz` entry: the unwrapped pipeline, so any exception inside the decoder is seen. */
export function fuzzDecoder(count: number, seed: number): FuzzResult {
  return fuzzWith(count, seed, (input, keys) => {
    const parsed = parseDatagram(input)
    return { parsed, result: verifyParsed(parsed, keys) }
  })
}
