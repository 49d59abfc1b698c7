// Release-1 resource sets (hb_resource.h): the none/local/foreign/all bit field and its wire words.

/** Bit field as heartbeat keeps it: local = 1, foreign = 2, all = both (HB_*_RSC). */
export type RscBits = 0 | 1 | 2 | 3

export const RSC_NONE: RscBits = 0
export const RSC_LOCAL: RscBits = 1
export const RSC_FOREIGN: RscBits = 2
export const RSC_ALL: RscBits = 3

export type RscWord = 'none' | 'local' | 'foreign' | 'all'

const WORDS: readonly RscWord[] = ['none', 'local', 'foreign', 'all']

export function rscWord(bits: RscBits): RscWord {
  return WORDS[bits] ?? 'none'
}

/** encode_resources(): exact, case-sensitive match; anything else is "none" (heartbeat logs and uses 0). */
export function rscBits(word: string): RscBits | undefined {
  const i = WORDS.indexOf(word as RscWord)
  return i < 0 ? undefined : (i as RscBits)
}

export function orBits(a: RscBits, b: RscBits): RscBits {
  return (a | b) as RscBits
}

export function clearBits(a: RscBits, b: RscBits): RscBits {
  return (a & ~b & 3) as RscBits
}

/** HB_UPD_RSC: a full update replaces; a partial one ORs in, except that "none" clears. */
export function updateBits(full: boolean, current: RscBits, update: RscBits): RscBits {
  if (full) return update
  return update === RSC_NONE ? RSC_NONE : orBits(current, update)
}

/** The argument of hb_standby / hb_takeover / hbctl standby|takeover. */
export type StandbyArg = 'all' | 'local' | 'foreign' | 'failback'

/** hb_standby(1): no argument = all; failback means "give back what is not mine" = foreign. */
export function standbySet(arg: StandbyArg | undefined): RscBits {
  switch (arg) {
    case undefined:
    case 'all':
      return RSC_ALL
    case 'local':
      return RSC_LOCAL
    case 'foreign':
    case 'failback':
      return RSC_FOREIGN
  }
}

/**
 * rc.d/hb_takeover: the peer runs hb_standby with the set seen from its side
 * (local <-> foreign, all stays all). `failback` is passed on untranslated and the peer's
 * hb_standby then treats it as no argument = all (heartbeat-protocol §2.2).
 */
export function takeoverToPeerStandby(word: string): RscBits {
  switch (word) {
    case 'local':
      return RSC_FOREIGN
    case 'foreign':
      return RSC_LOCAL
    default:
      return RSC_ALL
  }
}
