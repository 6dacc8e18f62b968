/** Where the Postgres regression corpus is, for the tests that read it. */
import { existsSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'

const repoRoot = resolve(import.meta.dirname, '../..')

/** `$DDL_CORPUS_DIR` (the corpus root or the postgres-regress folder itself), else `../shared/corpus`. */
export function corpusDir(): string | undefined {
  const env = process.env.DDL_CORPUS_DIR
  const candidates =
    env !== undefined && env !== ''
      ? [join(env, 'postgres-regress'), env]
      : [resolve(repoRoot, '../shared/corpus/postgres-regress')]
  return candidates.find((dir) => existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.sql')))
}
