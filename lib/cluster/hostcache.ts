// heartbeat's host cache (/var/lib/heartbeat/hostcache, hb_uuid.c): the uuid of every node we know
// one of, so a new life addresses its peers by uuid (destuuid) before it hears from them.
// One line per node: name, uuid as uuid_unparse writes it, weight, site, tab-separated.

/** The weight heartbeat gives a node nobody set one for (hb_setweight). */
export const DEFAULT_NODE_WEIGHT = 100

/** uuid bytes as heartbeat writes them (uuid_unparse: lowercase hex with dashes). */
export function formatUuid(uuid: Buffer): string {
  const h = uuid.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

/** The 16 bytes of a uuid_unparse text, or undefined when it is not one. */
export function parseUuid(text: string): Buffer | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text)) return undefined
  return Buffer.from(text.replaceAll('-', ''), 'hex')
}

/** The file's text for `hosts` (nodes whose uuid is known), in the order given. */
export function formatHostcache(hosts: ReadonlyArray<{ name: string; uuid: Buffer }>): string {
  return hosts.map((h) => `${h.name}\t${formatUuid(h.uuid)}\t${DEFAULT_NODE_WEIGHT}\t\n`).join('')
}

/** Node name (lowercased) → uuid; lines that do not parse are skipped (a cache, not configuration). */
export function parseHostcache(text: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  for (const line of text.split('\n')) {
    const [name, uuidText] = line.split('\t')
    if (name === undefined || name.trim() === '' || uuidText === undefined) continue
    const uuid = parseUuid(uuidText.trim())
    if (uuid !== undefined) out.set(name.trim().toLowerCase(), uuid)
  }
  return out
}
