// The membership messages heartbeat 3.0.6 builds, with its field order and radix (before control fields).
import { messageOf, type HaMessage } from '../wire/message.js'
import { hex } from './c-numbers.js'

export const T_STATUS = 'status'
export const T_REXMIT = 'NS_rexmit'
export const T_NAKREXMIT = 'NS_nak_rexmit'
export const T_ACKMSG = 'NS_ackmsg'
export const T_REQNODES = 'reqnodes'
export const T_REPNODES = 'repnodes'
/** The resource layer's "I have released everything" (hb_giveup_resources); the core only watches for it. */
export const T_SHUTDONE = 'shutdone'
/** Dynamic membership tools (hb_addnode & co.): accepted and ignored in release-1 mode. */
export const IGNORED_TYPES: ReadonlySet<string> = new Set(['addnode', 'delnode', 'setweight', 'setsite'])

/** send_local_status: t, st, dt (hex ms), protocol=1 while flow control is on. */
export function statusMessage(status: string, deadtimeMs: number, withProtocol: boolean): HaMessage {
  const pairs: Array<[string, string]> = [['t', T_STATUS], ['st', status], ['dt', hex(deadtimeMs)]]
  if (withProtocol) pairs.push(['protocol', '1'])
  return messageOf(pairs)
}

/** send_ack: t, dest, ackseq (hex). */
export function ackMessage(dest: string, ackSeq: number): HaMessage {
  return messageOf([['t', T_ACKMSG], ['dest', dest], ['ackseq', hex(ackSeq)]])
}

/** send_rexmit_request: t, dest, firstseq = lastseq, both DECIMAL. */
export function rexmitRequestMessage(dest: string, seq: number): HaMessage {
  return messageOf([['t', T_REXMIT], ['dest', dest], ['firstseq', String(seq)], ['lastseq', String(seq)]])
}

/** nak_rexmit: t, firstseq (HEX), dest, info = reason. */
export function nakRexmitMessage(seq: number, dest: string, reason: string): HaMessage {
  return messageOf([['t', T_NAKREXMIT], ['firstseq', hex(seq)], ['dest', dest], ['info', reason]])
}

/** send_reqnodes_msg: t, dest. */
export function reqnodesMessage(dest: string): HaMessage {
  return messageOf([['t', T_REQNODES], ['dest', dest]])
}

/** HBDoMsg_T_REQNODES's reply: dest comes FIRST, then t, nodelist, delnodelist. */
export function repnodesMessage(dest: string, nodes: readonly string[], deletedNodes: readonly string[]): HaMessage {
  return messageOf([
    ['dest', dest],
    ['t', T_REPNODES],
    ['nodelist', formatNodeList(nodes)],
    ['delnodelist', deletedNodes.length === 0 ? ' ' : formatNodeList(deletedNodes)],
  ])
}

/** get_nodelist: every name followed by one space (`alice bob `). */
export function formatNodeList(nodes: readonly string[]): string {
  return nodes.map((n) => `${n} `).join('')
}

/** getnodes: names separated by blanks; an empty or blank list is empty. */
export function parseNodeList(text: string): string[] {
  return text.split(/[ \t]+/).filter((s) => s !== '')
}
