// add_control_msg_fields: the fields heartbeat appends to every outgoing message, in 3.0.6's order.
import { binaryField, getString, setField, stringField, type Field, type HaMessage } from '../wire/message.js'
import { hex } from './c-numbers.js'
import type { MembershipEnv } from './actions.js'

export interface SenderIdentity {
  /** Lowercase node name (`src`). */
  node: string
  uuid: Buffer
  generation: number
  /** hopfudge + configured nodes (ping nodes included). */
  ttl: number
}

/** Types starting with NS_ live outside reliable delivery: no seq, no ld, existing fields kept. */
export function isUnsequencedType(t: string): boolean {
  return t.startsWith('NS_')
}

/**
 * Stamp a message for the wire. `seq` is given for sequenced types only. `destUuid` is the uuid we
 * know for the message's `dest` (destuuid is set first, then src, srcuuid, seq, hg, ts, ld, ttl,
 * each "modify in place or append"; for NS_ types a field already present is left alone).
 */
export function stampControlFields(
  msg: HaMessage,
  id: SenderIdentity,
  seq: number | undefined,
  env: MembershipEnv,
  destUuid: Buffer | undefined,
): HaMessage {
  let out = msg
  if (getString(out, 'dest') !== undefined && destUuid !== undefined) out = setField(out, binaryField('destuuid', destUuid))
  const unsequenced = isUnsequencedType(getString(out, 't') ?? '')
  const defaults: Array<[name: string, field: () => Field, sequencedOnly: boolean]> = [
    ['src', () => stringField('src', id.node), false],
    ['srcuuid', () => binaryField('srcuuid', id.uuid), false],
    ['seq', () => stringField('seq', hex(seq ?? 0)), true],
    ['hg', () => stringField('hg', hex(id.generation)), false],
    ['ts', () => stringField('ts', hex(Math.floor(env.wallSec))), false],
    ['ld', () => stringField('ld', env.loadavg === '' ? 'n/a' : env.loadavg), true],
    ['ttl', () => stringField('ttl', String(id.ttl)), false],
  ]
  for (const [name, make, sequencedOnly] of defaults) {
    if (unsequenced && sequencedOnly) continue
    if (unsequenced && out.fields.some((f) => f.name === name)) continue
    out = setField(out, make())
  }
  return out
}

/**
 * A status from a peer of our protocol (a numeric `protocol` field): it runs flow control, so it
 * asks for the node list before it goes active. Without one, heartbeat turns flow control off.
 */
export function speaksFlowControl(msg: HaMessage): boolean {
  return /^\s*[+-]?\d/.test(getString(msg, 'protocol') ?? '')
}
