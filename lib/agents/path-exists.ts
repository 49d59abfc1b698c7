// Does a path exist (for the caller's purpose: a rules file, a mon.cf, a site script)? Errors count as no.

import { access } from 'node:fs/promises'

export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}
