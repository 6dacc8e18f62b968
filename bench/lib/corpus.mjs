/** The regression corpus: `$DDL_CORPUS_DIR`, else `../shared/corpus` next to the repository. */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

/** The corpus directory holding `postgres-regress/`, or undefined with the places looked at. */
export function findCorpus() {
  const candidates = []
  if (process.env.DDL_CORPUS_DIR) candidates.push(resolve(process.env.DDL_CORPUS_DIR))
  candidates.push(resolve(repoRoot, '../shared/corpus'))
  for (const dir of candidates) if (existsSync(join(dir, 'postgres-regress'))) return { dir, candidates }
  return { dir: undefined, candidates }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * The regression files, sorted, with their text. Files that are not UTF-8 (one: a Windows-1252
 * collation test) are left out for every tool, since `ddl check` rightly refuses them; they are listed.
 */
export function regressionFiles(corpusDir) {
  const dir = join(corpusDir, 'postgres-regress')
  const names = readdirSync(dir)
    .filter((n) => n.endsWith('.sql'))
    .sort()
  const files = []
  const notUtf8 = []
  for (const name of names) {
    const path = join(dir, name)
    try {
      files.push({ name, path, text: utf8.decode(readFileSync(path)) })
    } catch {
      notUtf8.push(name)
    }
  }
  return { dir, files, notUtf8 }
}
