// The layering rules of lib/, checked on syntax trees (the compiler API), so a comment or a string that
// mentions `Date.now()` is not a hit and a dynamic import() or require() is.
//
//   cli  >  daemon  >  io  >  agents  >  the pure cores (wire, config, cluster, resources, monitor, control,
//                                          and the agents' pure planners)
// A file imports only from its own layer or one below. A pure file imports no `node:` module (wire may
// use node:crypto), no execa, reads no clock, arms no timer, reads no environment and no Math.random,
// and loads no code dynamically. No file anywhere names a built-in module without `node:` or loads code
// from a computed name.

import ts from 'typescript'
import { builtinModules } from 'node:module'
import { posix } from 'node:path'

export const PURE_FOLDERS = ['wire', 'config', 'cluster', 'resources', 'monitor', 'control'] as const
/** Files of lib/agents that only plan (no I/O): they are held to the pure rules. */
export const PURE_AGENT_FILES = ['arp-suppression.ts', 'find-interface.ts', 'gratuitous-arp.ts', 'ip-spec.ts', 'ip-state.ts', 'ipaddr-plan.ts', 'ipv4.ts', 'lvs-table.ts'] as const
/** lib/demo (the namespace kit the demo and the namespace tests share) sits beside cli: nothing below imports it. */
const RANK: Readonly<Record<string, number>> = { agents: 1, io: 2, daemon: 3, cli: 4, demo: 4 }

export interface Violation {
  file: string
  line: number
  rule: string
  text: string
}

/** `lib/cluster/x.ts` → 'cluster'; undefined outside lib/. */
function folderOf(file: string): string | undefined {
  const m = /^lib\/([^/]+)\//.exec(file)
  return m?.[1]
}

export function isPure(file: string): boolean {
  const folder = folderOf(file)
  if (folder === undefined) return false
  if ((PURE_FOLDERS as readonly string[]).includes(folder)) return true
  return folder === 'agents' && (PURE_AGENT_FILES as readonly string[]).includes(posix.basename(file))
}

/** 0 for pure files, then agents < io < daemon < cli. */
export function rankOf(file: string): number | undefined {
  if (isPure(file)) return 0
  const folder = folderOf(file)
  return folder === undefined ? undefined : RANK[folder]
}

const BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith('_')))
const CLOCK_CALLS = new Set(['Date.now', 'performance.now', 'process.hrtime', 'process.hrtime.bigint', 'process.uptime', 'Math.random'])
const TIMER_CALLS = new Set(['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask'])

/** Every violation in one lib/ file (`file` relative to the repository root, with forward slashes). */
export function checkFile(file: string, text: string): Violation[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS)
  const out: Violation[] = []
  const pure = isPure(file)
  const myRank = rankOf(file)
  const hit = (node: ts.Node, rule: string): void => {
    out.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, rule, text: node.getText(source).split('\n')[0] ?? '' })
  }

  const checkSpecifier = (node: ts.Node, spec: string, typeOnly: boolean): void => {
    const bare = spec.split('/')[0] ?? spec
    if (!spec.startsWith('.') && !spec.startsWith('node:') && BUILTINS.has(bare)) hit(node, `built-in module named without node: ('${spec}')`)
    if (pure && !typeOnly) {
      const isNode = spec.startsWith('node:') || BUILTINS.has(bare)
      if (isNode && !(folderOf(file) === 'wire' && spec === 'node:crypto')) hit(node, `pure file imports ${spec}`)
      if (spec === 'execa') hit(node, 'pure file imports execa')
    }
    if (spec.startsWith('.') && myRank !== undefined) {
      const target = posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts')
      const targetRank = rankOf(target)
      if (targetRank !== undefined && targetRank > myRank) hit(node, `imports from a layer above (${folderOf(file)} → ${folderOf(target)}: ${target})`)
    }
  }

  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly = ts.isImportDeclaration(node) ? node.importClause?.isTypeOnly === true : node.isTypeOnly
      checkSpecifier(node, node.moduleSpecifier.text, typeOnly)
    }
    if (ts.isCallExpression(node)) {
      const callee = node.expression.getText(source)
      const [arg] = node.arguments
      const dynamicImport = node.expression.kind === ts.SyntaxKind.ImportKeyword
      if (dynamicImport || callee === 'require' || callee === 'createRequire') {
        if (arg !== undefined && ts.isStringLiteral(arg)) checkSpecifier(node, arg.text, false)
        else hit(node, 'loads code from a computed name')
        if (pure) hit(node, 'pure file loads code dynamically')
      }
      if (pure && CLOCK_CALLS.has(callee)) hit(node, `pure file reads the clock or a random source (${callee})`)
      if (pure && TIMER_CALLS.has(callee)) hit(node, `pure file arms a timer (${callee})`)
    }
    if (pure && ts.isNewExpression(node) && node.expression.getText(source) === 'Date' && (node.arguments?.length ?? 0) === 0) hit(node, 'pure file reads the clock (new Date())')
    if (pure && ts.isPropertyAccessExpression(node) && node.getText(source) === 'process.env') hit(node, 'pure file reads the environment')
    ts.forEachChild(node, visit)
  }
  visit(source)
  return out
}
