// process_clustermsg's first checks: every message needs a type, a sender, a timestamp and (unless unsequenced) a seq.
import { getString, type HaMessage } from '../wire/message.js'
import { scanHex } from './c-numbers.js'
import { isUnsequencedType } from './control-fields.js'

/** What the header says, parsed; or why the message is malformed (a complaint to log, or none for a bad ts). */
export type HeaderCheck =
  | { ok: true; type: string; src: string; seq: number | undefined; ts: number }
  | { ok: false; complaint: string | undefined }

/** `iface` names the medium in complaints ('?' for our own messages looped back). */
export function checkHeader(msg: HaMessage, iface: string): HeaderCheck {
  const type = getString(msg, 't')
  const src = getString(msg, 'src')
  const tsText = getString(msg, 'ts')
  if (type === undefined || src === undefined || tsText === undefined) {
    return { ok: false, complaint: `process_clustermsg: missing from/ts/type: iface ${iface}, from ${src ?? '<?>'}` }
  }
  const seqText = getString(msg, 'seq')
  let seq: number | undefined
  if (seqText !== undefined) {
    seq = scanHex(seqText)
    if (seq === undefined || seq <= 0) {
      return { ok: false, complaint: `process_clustermsg: has bad cseq: iface ${iface}, from ${src} (seq ${JSON.stringify(seqText)})` }
    }
  } else if (!isUnsequencedType(type)) {
    return { ok: false, complaint: `process_clustermsg: missing seqno: iface ${iface}, from ${src} (t ${JSON.stringify(type)})` }
  }
  const ts = scanHex(tsText)
  if (ts === undefined || ts === 0) return { ok: false, complaint: undefined }
  return { ok: true, type, src, seq, ts }
}
