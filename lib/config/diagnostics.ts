// Config diagnostics: collected (never thrown one by one) and printed in GNU form, `path:line: message`.

export type Severity = 'error' | 'warning'

export interface Diagnostic {
  path: string
  /** 1-based line number; absent for whole-file problems (mode, missing file). */
  line?: number
  severity: Severity
  message: string
}

/** `path:line: message` for errors, `path:line: warning: message` for warnings. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line === undefined ? d.path : `${d.path}:${d.line}`
  return d.severity === 'warning' ? `${where}: warning: ${d.message}` : `${where}: ${d.message}`
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error')
}

/** Quote offending text the same way everywhere: JSON string syntax shows blanks and control bytes. */
export function quote(text: string): string {
  return JSON.stringify(text)
}
