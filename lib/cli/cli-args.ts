// One way every command of ours reads its arguments: --help on standard output with exit 0, --version,
// usage errors in our words on standard error with exit 2 (never parseArgs' own advice text).

import { parseArgs, type ParseArgsConfig } from 'node:util'
import { hbVersionString } from '../control/version.js'

export const EXIT_USAGE = 2

type Options = NonNullable<ParseArgsConfig['options']>

export type ParsedCommand<O extends Options> =
  | { ok: true; values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; args: string[] }>>['values']; positionals: string[] }
  | { ok: false; exitCode: number }

/** parseArgs's complaint in our words: "unknown option -x", without "To specify a positional argument …". */
export function describeUsageError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  const unknown = /^Unknown option '([^']+)'/.exec(text)
  if (unknown) return `unknown option ${unknown[1]}`
  const missing = /^Option '([^']+)' argument missing/.exec(text)
  if (missing?.[1] !== undefined) return `option ${missing[1].replace(/^-\w, /, '').replace(/ <value>$/, '')} needs a value`
  return text.replace(/\. To specify a positional argument starting with[^]*$/, '').replace(/[.]$/, '')
}

/**
 * Parses `argv` for command `name` ("hbctl nodes"). --help/-h prints `usage` and --version the
 * version, both on standard output with exit 0; a usage error prints the reason and `usage` on
 * standard error with exit 2. `maxPositionals` bounds the words after the options.
 */
export function parseCommand<O extends Options>(
  name: string,
  usage: string,
  argv: readonly string[],
  options: O,
  maxPositionals = 0,
  out: { stdout(text: string): void; stderr(text: string): void } = { stdout: (t) => void process.stdout.write(t), stderr: (t) => void process.stderr.write(t) },
): ParsedCommand<O> {
  const text = usage.endsWith('\n') ? usage : `${usage}\n`
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: { ...options, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } },
    })
  } catch (err) {
    out.stderr(`${name}: ${describeUsageError(err)}\n${text}`)
    return { ok: false, exitCode: EXIT_USAGE }
  }
  const values = parsed.values as Record<string, unknown>
  if (values.help === true) {
    out.stdout(text)
    return { ok: false, exitCode: 0 }
  }
  if (values.version === true) {
    out.stdout(`${name} ${hbVersionString()}\n`)
    return { ok: false, exitCode: 0 }
  }
  if (parsed.positionals.length > maxPositionals) {
    out.stderr(`${name}: unexpected argument ${JSON.stringify(parsed.positionals[maxPositionals])}\n${text}`)
    return { ok: false, exitCode: EXIT_USAGE }
  }
  return { ok: true, values: parsed.values as never, positionals: parsed.positionals }
}
