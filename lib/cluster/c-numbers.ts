// Number parsing with the C-library semantics heartbeat relies on (sscanf "%lx") and its hex output; atoi is lib/config/atoi.ts.

const HEX_PREFIX = /^\s*[+]?(?:0[xX](?=[0-9a-fA-F]))?([0-9a-fA-F]+)/

/** sscanf("%lx"): leading blanks, optional 0x, then the longest hex prefix; undefined when no digit. */
export function scanHex(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const m = HEX_PREFIX.exec(text)
  if (!m || m[1] === undefined) return undefined
  const n = Number.parseInt(m[1], 16)
  return Number.isSafeInteger(n) ? n : undefined
}

/** printf("%lx"): lowercase hex without padding, as every hex field heartbeat writes. */
export function hex(n: number): string {
  return Math.trunc(n).toString(16)
}
