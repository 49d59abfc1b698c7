// Builders for the release-1 resource messages, fields in the order 3.0.6 adds them (captures, §2.2).
import { messageOf } from '../wire/message.js'
import type { HaMessage } from '../wire/message.js'
import type { RscWord } from './resource-sets.js'

export function startingMsg(): HaMessage {
  return messageOf([['t', 'starting']])
}

/** hb_send_resources_held(): t, rsc_hold, rtype=full, isstable, then info when given. */
export function resourceHeldMsg(held: RscWord, stable: boolean, info?: string): HaMessage {
  const pairs: Array<[string, string]> = [
    ['t', 'resource'],
    ['rsc_hold', held],
    ['rtype', 'full'],
    ['isstable', stable ? '1' : '0'],
  ]
  if (info !== undefined) pairs.push(['info', info])
  return messageOf(pairs)
}

/** mach_down's FIFO message: only the foreign bit, no rtype and no isstable. */
export function machDownMsg(): HaMessage {
  return messageOf([
    ['t', 'resource'],
    ['rsc_hold', 'foreign'],
    ['info', 'mach_down'],
  ])
}

export function askResourcesMsg(set: RscWord, info: 'me' | 'other' | 'done'): HaMessage {
  return messageOf([
    ['t', 'ask_resources'],
    ['rsc_hold', set],
    ['info', info],
  ])
}

export function ipRequestMsg(key: string): HaMessage {
  return messageOf([
    ['t', 'ip-request'],
    ['ipaddr', key],
  ])
}

export function ipRequestRespMsg(dest: string, key: string, weown: boolean): HaMessage {
  return messageOf([
    ['t', 'ip-request-resp'],
    ['dest', dest],
    ['ipaddr', key],
    ['weown', weown ? 'yes' : 'no'],
    ['ok', 'OK'],
  ])
}

export function hbTakeoverMsg(arg: string): HaMessage {
  return messageOf([
    ['t', 'hb_takeover'],
    ['rsc_hold', arg],
  ])
}

export function shutdoneMsg(): HaMessage {
  return messageOf([
    ['t', 'shutdone'],
    ['st', 'dead'],
  ])
}

export type StonithResult = 'OK' | 'badhost' | 'bad' | 'n_stnth' | 'unneeded'

export function stonithMsg(node: string, result: StonithResult): HaMessage {
  return messageOf([
    ['t', 'stonith'],
    ['node', node],
    ['result', result],
  ])
}
