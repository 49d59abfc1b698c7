// Finds the outside commands a TypeScript source runs, by reading its syntax tree (the compiler API),
// so the system-tools manifest test can fail when code starts a program the manifest does not name.
//
// Shapes recognised (every way this code base starts a program):
//   execa('cmd', …) / execa(x, ['netns', 'exec', ns, 'cmd', …]) / execa('ip', ['netns', 'exec', ns, 'unshare', …])
//   host.exec(['cmd', …]) / host.spawn(['cmd', …]) / mustExec(host, ['cmd', …]) / run('cmd', [...]) in the kit
//   env.HBTS_IP_CMD ?? 'ip' (a built-in agent's default program)
//   for (const tool of ['ip', …]) canRun(['sh', '-c', `command -v ${tool}`]) (the kit's pre-flight)

import ts from 'typescript'

export interface CommandUse {
  command: string
  line: number
}

/** Calls whose first argument is a program name (and second an argument array). */
const PROGRAM_CALLS = new Set(['execa', 'execaSync', 'spawn', 'spawnSync', 'execFile', 'execFileSync', 'run', 'must', 'canRun'])
/** Calls taking an argument vector whose first element is a program name, and which argument that is. */
const ARGV_CALLS = new Map([['exec', 0], ['spawn', 0], ['canRun', 0], ['mustExec', 1]])
/** Wrappers that run the program named after them: `ip netns exec NS cmd`, `nsenter … cmd`, `unshare … -- cmd`. */
const WRAPPER_EXEC_WORD = 'exec'

function calleeName(e: ts.Expression): string | undefined {
  if (ts.isIdentifier(e)) return e.text
  if (ts.isPropertyAccessExpression(e)) return e.name.text
  return undefined
}

function literal(e: ts.Expression | undefined): string | undefined {
  if (e === undefined) return undefined
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return e.text
  return undefined
}

/** A word that names a program (not an option, not a path into our own tree, not a placeholder). */
function looksLikeProgram(word: string): boolean {
  return /^(\/[\w./-]+|[a-z][\w.+-]*)$/.test(word)
}

/** In `['netns', 'exec', ns, 'cmd', …]` the program after the namespace name. */
function afterNetnsExec(elements: readonly ts.Expression[]): string | undefined {
  for (let i = 0; i + 2 < elements.length; i++) {
    if (literal(elements[i]) === 'netns' && literal(elements[i + 1]) === WRAPPER_EXEC_WORD) return literal(elements[i + 3])
  }
  return undefined
}

export function scanCommands(fileName: string, text: string): CommandUse[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS)
  const found: CommandUse[] = []
  const add = (word: string | undefined, node: ts.Node): void => {
    if (word === undefined || !looksLikeProgram(word)) return
    found.push({ command: word, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1 })
  }
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const name = calleeName(node.expression)
      const [first, second] = node.arguments
      if (name !== undefined && PROGRAM_CALLS.has(name)) {
        add(literal(first), node)
        if (second !== undefined && ts.isArrayLiteralExpression(second)) add(afterNetnsExec(second.elements), node)
      }
      const argvIndex = name === undefined ? undefined : ARGV_CALLS.get(name)
      const argv = argvIndex === undefined ? undefined : node.arguments[argvIndex]
      if (argv !== undefined && ts.isArrayLiteralExpression(argv)) {
        add(literal(argv.elements[0]), node)
        add(afterNetnsExec(argv.elements), node)
      }
    }
    // env.HBTS_IP_CMD ?? 'ip': the program a built-in agent runs unless a test overrides it.
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken) {
      const left = node.left.getText(source)
      if (/HBTS_\w*(CMD|IPVSADM)\b/.test(left)) add(literal(node.right), node)
    }
    // for (const tool of ['ip', 'unshare', …]) … `command -v ${tool}`: the kit's list of required tools.
    if (ts.isForOfStatement(node) && ts.isArrayLiteralExpression(node.expression) && node.statement.getText(source).includes('command -v')) {
      for (const el of node.expression.elements) add(literal(el), el)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}
