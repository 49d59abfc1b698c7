// hbctl decode: take one raw heartbeat datagram (a tcpdump payload) apart, show its fields and whether it is authentic.

import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { parseAuthkeys } from '../config/authkeys.js'
import { formatDiagnostic, quote } from '../config/diagnostics.js'
import { daemonPaths } from '../config/paths.js'
import type { AuthKeys } from '../wire/auth-keys.js'
import type { Field, HaMessage } from '../wire/message.js'
import { getString } from '../wire/message.js'
import { parseDatagram, verifyParsed } from '../wire/packet.js'
import type { DecodeResult, ParsedDatagram } from '../wire/packet.js'
import { isCapture, readCapture } from '../wire/pcap.js'
import { describeUsageError } from './cli-args.js'
import { hbVersionString } from '../control/version.js'
import { decodeCapturePacket, looksLikeHeartbeat, packetLine, summarizeNodes, summaryLine } from './hbctl-decode-capture.js'

const USAGE = `usage: hbctl decode [--authkeys FILE] [--port N] [--json] [FILE|-]
  FILE (or standard input) is either a capture (pcap or pcapng, as written by tcpdump -w or
  wireshark) or one raw heartbeat datagram (a UDP payload, e.g. wireshark "export packet bytes").
  A capture: every heartbeat datagram in it, one line each (time, addresses, t=, src=, seq=, hg=,
  verdict), then one summary per node: packets, generations, sequence gaps, verdicts.
  One datagram: its fields in wire order (binary as hex; hex counters also in decimal) and whether
  and how it verifies.
  --authkeys FILE  keys to verify with (default /etc/ha.d/authkeys, or $HBTS_HA_DIR/authkeys); a key
                   file others can read is used with a warning (the daemon would refuse it)
  --port N         in a capture, only UDP datagrams to or from port N (default: every datagram
                   that starts like a heartbeat message)
  --json           JSON instead of text
Exit status: 0 when every datagram is authentic, 1 when one is not (or cannot be checked), 2 on usage errors.
`

export interface DecodeIo {
  stdout(text: string): void
  stderr(text: string): void
  readStdin(): Promise<Buffer>
}

const processIo: DecodeIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  readStdin: async () => {
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
    return Buffer.concat(chunks)
  },
}

const TYPE_NAMES = ['string', 'binary', 'struct', 'list', 'compressed', 'uncompressed'] as const

// §1.2: these counters travel as lowercase hex; firstseq only in a NAK (decimal in a rexmit request).
const HEX_FIELDS = new Set(['seq', 'hg', 'ts', 'dt', 'ackseq'])

function isHexField(msg: HaMessage, f: Field): boolean {
  if (f.type !== 0) return false
  if (HEX_FIELDS.has(f.name)) return true
  return f.name === 'firstseq' && getString(msg, 't') === 'NS_nak_rexmit'
}

function describeError(e: unknown): string {
  if (e instanceof Error && 'code' in e && typeof e.code === 'string') {
    if (e.code === 'ENOENT') return 'no such file'
    if (e.code === 'EACCES') return 'permission denied'
    if (e.code === 'EISDIR') return 'is a directory'
    return e.code
  }
  return e instanceof Error ? e.message : String(e)
}

type KeysResult = { ok: true; keys: AuthKeys; diagnostics: string[] } | { ok: false; why: string; diagnostics: string[] }

async function loadKeys(path: string): Promise<KeysResult> {
  let text: Buffer
  let mode: number
  try {
    text = await readFile(path)
    mode = (await stat(path)).mode
  } catch (e) {
    return { ok: false, why: `cannot read ${path}: ${describeError(e)}`, diagnostics: [] }
  }
  const parsed = parseAuthkeys(text, path, mode)
  const diagnostics = parsed.diagnostics.map(formatDiagnostic)
  if (parsed.keys) return { ok: true, keys: parsed.keys, diagnostics }
  // Decoding offline is not the daemon starting: keys others can read still verify, with a warning.
  const asPrivate = parseAuthkeys(text, path, 0o600)
  if (asPrivate.keys && (mode & 0o077) !== 0) {
    const warning = `${path}: warning: mode ${(mode & 0o777).toString(8).padStart(4, '0')} lets other users read the keys (the daemon refuses it: chmod 600 ${path}); used here only to verify`
    return { ok: true, keys: asPrivate.keys, diagnostics: [warning, ...asPrivate.diagnostics.map(formatDiagnostic)] }
  }
  return { ok: false, why: `heartbeat would refuse ${path}`, diagnostics }
}

function printable(value: Buffer): string {
  const text = value.toString('latin1')
  return /^[\x20-\x7e]*$/.test(text) ? text : quote(text)
}

function fieldLine(msg: HaMessage, f: Field): string {
  if (f.type !== 0) return `(${f.type})${f.name}=${f.value.toString('hex')}  (${TYPE_NAMES[f.type]}, ${f.value.length} bytes)`
  const text = f.value.toString('latin1')
  let note = ''
  if (isHexField(msg, f) && /^[0-9a-fA-F]{1,13}$/.test(text)) {
    const n = parseInt(text, 16)
    note = f.name === 'ts' ? `  (${n} = ${new Date(n * 1000).toISOString().replace('.000Z', 'Z')})` : `  (${n})`
  }
  return `${f.name}=${printable(f.value)}${note}`
}

function verdictText(result: DecodeResult, keysPath: string): string {
  if (result.ok) {
    const which = result.auth.via === 'trailer' ? 'the netstring trailer' : 'the classic auth field'
    return `authentic: yes, ${which} verifies with key index ${result.auth.index} (${result.auth.method}) from ${keysPath}\n`
  }
  return `authentic: NO (${result.code}): ${result.reason}\n`
}

function asJson(
  bytes: number,
  parsed: ParsedDatagram,
  result: DecodeResult | undefined,
  keysProblem: string | undefined,
): string {
  const fields = parsed.ok
    ? parsed.msg.fields.map((f) => [f.name, TYPE_NAMES[f.type], f.type === 0 ? f.value.toString('latin1') : f.value.toString('hex')])
    : []
  const out = {
    bytes,
    format: parsed.ok ? parsed.format : null,
    fields,
    trailer: parsed.ok && parsed.format === 'netstring' ? (parsed.trailer ?? null) : null,
    authentic: result?.ok === true,
    auth: result?.ok ? result.auth : null,
    error: !parsed.ok
      ? { code: parsed.code, reason: parsed.reason }
      : result && !result.ok
        ? { code: result.code, reason: result.reason }
        : keysProblem
          ? { code: 'no-keys', reason: keysProblem }
          : null,
  }
  return `${JSON.stringify(out, null, 2)}\n`
}

export async function main(argv: string[], io: DecodeIo = processIo): Promise<number> {
  let values: { authkeys?: string; port?: string; json?: boolean; help?: boolean; version?: boolean }
  let positionals: string[]
  try {
    ;({ values, positionals } = parseArgs({
      args: argv,
      options: { authkeys: { type: 'string' }, port: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } },
      allowPositionals: true,
    }))
  } catch (e) {
    io.stderr(`hbctl decode: ${describeUsageError(e)}\n${USAGE}`)
    return 2
  }
  const port = values.port === undefined ? undefined : Number(values.port)
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    io.stderr(`hbctl decode: --port takes a UDP port number (1-65535), not ${JSON.stringify(values.port)}\n${USAGE}`)
    return 2
  }
  if (values.help) {
    io.stdout(USAGE)
    return 0
  }
  if (values.version) {
    io.stdout(`hbctl decode ${hbVersionString()}\n`)
    return 0
  }
  if (positionals.length > 1) {
    io.stderr(`hbctl decode: one datagram at a time (got ${positionals.length} files)\n${USAGE}`)
    return 2
  }
  const source = positionals[0] ?? '-'
  let datagram: Buffer
  try {
    datagram = source === '-' ? await io.readStdin() : await readFile(source)
  } catch (e) {
    io.stderr(`hbctl decode: cannot read ${source}: ${describeError(e)}\n`)
    return 2
  }
  const keysPath = values.authkeys ?? join(daemonPaths(process.env).haDir, 'authkeys')
  const keys = await loadKeys(keysPath)
  for (const d of keys.diagnostics) io.stderr(`${d}\n`)

  if (isCapture(datagram)) return decodeCapture(datagram, source, keys, keysPath, port, values.json === true, io)

  const parsed = parseDatagram(datagram)
  const result = parsed.ok && keys.ok ? verifyParsed(parsed, keys.keys) : parsed.ok ? undefined : parsed
  const keysProblem = keys.ok ? undefined : keys.why

  if (values.json) {
    io.stdout(asJson(datagram.length, parsed, result, keysProblem))
    return result?.ok ? 0 : 1
  }
  if (!parsed.ok) {
    io.stdout(`${source === '-' ? 'stdin' : source}: ${datagram.length} bytes, not a valid heartbeat datagram (${parsed.code}): ${parsed.reason}\n`)
    return 1
  }
  const lines = [`${parsed.format} datagram, ${datagram.length} bytes, ${parsed.msg.fields.length} fields`]
  for (const f of parsed.msg.fields) lines.push(`  ${fieldLine(parsed.msg, f)}`)
  if (parsed.format === 'netstring') lines.push(parsed.trailer === undefined ? 'trailer: none' : `trailer: ${printable(Buffer.from(parsed.trailer, 'latin1'))}`)
  io.stdout(`${lines.join('\n')}\n`)
  if (!result) {
    io.stdout(`authentic: not checked: ${keysProblem ?? 'no keys'}\n`)
    return 1
  }
  io.stdout(verdictText(result, keysPath))
  return result.ok ? 0 : 1
}

function decodeCapture(data: Buffer, source: string, keys: KeysResult, keysPath: string, port: number | undefined, json: boolean, io: DecodeIo): number {
  const capture = readCapture(data)
  if (!capture.ok) {
    io.stderr(`hbctl decode: ${source}: not a readable capture: ${capture.reason}\n`)
    return 1
  }
  const chosen = capture.datagrams.filter((d) => (port === undefined ? looksLikeHeartbeat(d.payload) : d.srcPort === port || d.dstPort === port))
  const packets = chosen.map((d) => decodeCapturePacket(d, keys.ok ? keys.keys : undefined))
  const nodes = summarizeNodes(packets)
  const allAuthentic = packets.length > 0 && packets.every((p) => p.verdict === 'authentic')
  if (json) {
    io.stdout(`${JSON.stringify({ capture: { format: capture.format, frames: capture.frames, udpDatagrams: capture.datagrams.length, heartbeatDatagrams: packets.length }, keys: keys.ok ? keysPath : null, keysProblem: keys.ok ? null : keys.why, packets, nodes }, null, 2)}\n`)
    return allAuthentic ? 0 : 1
  }
  const lines = [`${source === '-' ? 'stdin' : source}: ${capture.format} capture, ${capture.frames} frames, ${packets.length} heartbeat datagrams`]
  for (const p of packets) lines.push(packetLine(p))
  if (!keys.ok) lines.push(`authentic: not checked: ${keys.why}`)
  lines.push('per node:')
  for (const n of nodes) lines.push(`  ${summaryLine(n)}`)
  if (packets.length === 0) lines.push(`  no heartbeat datagrams${port === undefined ? '' : ` on port ${port}`}`)
  io.stdout(`${lines.join('\n')}\n`)
  return allAuthentic ? 0 : 1
}
