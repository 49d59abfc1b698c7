// Number parsing with the C-library semantics heartbeat relies on (sscanf "%lx", atoi) and its hex output.

const HEX_PREFIX = /^\s*[+]?(?:0[xX](?=[0-9a-fA-F]))?([0-9a-fA-F]+)/
const DEC_PREFIX = /^\s*([+-]?\d+)/

/** sscanf("%lx"): leading blanks, optional 0x, then the longest hex prefix; undefined when no digit. */
export function scanHex(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const m = HEX_PREFIX.exec(text)
  if (!m || m[1] === undefined) return undefined
  const n = Number.parseInt(m[1], 16)
  return Number.isSafeInteger(n) ? n : undefined
}

/** atoi(): the decimal prefix, 0 when there is none (heartbeat parses NS_rexmit's firstseq/lastseq this way). */
export function atoi(text: string | undefined): number {
  if (text === undefined) return 0
  const m = DEC_PREFIX.exec(text)
  if (!m || m[1] === undefined) return 0
  const n = Number.parseInt(m[1], 10)
  return Number.isSafeInteger(n) ? n : 0
}

/** printf("%lx"): lowercase hex without padding, as every hex field heartbeat writes. */
export function hex(n: number): string {
  return Math.trunc(n).toString(16)
}
