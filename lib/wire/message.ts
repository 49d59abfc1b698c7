// The abstract heartbeat message: an ordered list of typed fields (cluster-glue ha_msg).
// Duplicate names are allowed; lookups return the first match (cl_msg.c semantics).

/** Field type digit: 0 string, 1 binary, 2 struct, 3 list, 4 compressed, 5 uncompressed struct. */
export type FieldType = 0 | 1 | 2 | 3 | 4 | 5

export interface Field {
  name: string
  type: FieldType
  /** Raw value bytes as they stand in a netstring field (binary stays binary). */
  value: Buffer
}

/**
 * At most this many fields per message (issue 10). 3.0.6 itself has no count limit (cl_msg.c grows
 * its arrays 30 at a time), but it sends one message per datagram: 65507 bytes hold at most ~8,180
 * netstring fields (`5:(0)a=,` is the smallest). Classic lines can be shorter (`a=` and a newline).
 */
export const MAX_FIELDS = 8192

export interface HaMessage {
  fields: Field[]
}

export function stringField(name: string, value: string): Field {
  return { name, type: 0, value: Buffer.from(value, 'latin1') }
}

export function binaryField(name: string, value: Buffer): Field {
  return { name, type: 1, value }
}

/** Build a message from [name, value] pairs of string fields, in order. */
export function messageOf(pairs: ReadonlyArray<readonly [string, string]>): HaMessage {
  return { fields: pairs.map(([n, v]) => stringField(n, v)) }
}

export function getField(msg: HaMessage, name: string): Field | undefined {
  return msg.fields.find((f) => f.name === name)
}

/** First string value of `name`, or undefined. Binary fields are not returned as strings. */
export function getString(msg: HaMessage, name: string): string | undefined {
  const f = getField(msg, name)
  return f && f.type === 0 ? f.value.toString('latin1') : undefined
}

export function getBinary(msg: HaMessage, name: string): Buffer | undefined {
  const f = getField(msg, name)
  return f && f.type === 1 ? f.value : undefined
}

/** ha_msg_mod semantics: replace the first field of that name in place, else append. */
export function setField(msg: HaMessage, field: Field): HaMessage {
  const i = msg.fields.findIndex((f) => f.name === field.name)
  const fields = msg.fields.slice()
  if (i >= 0) fields[i] = field
  else fields.push(field)
  return { fields }
}

export function setString(msg: HaMessage, name: string, value: string): HaMessage {
  return setField(msg, stringField(name, value))
}
