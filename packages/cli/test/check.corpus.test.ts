/**
 * `ddl check` over Postgres's own regression suite (217 files): no crash, and every statement the
 * grammar accepts gets its verdict from its parse tree, never from the token fallback.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { corpusDir } from '../../../test/support/corpus.js'
import { registerCheck } from '../src/commands/check.js'
import type { JsonReport } from '../src/format/json.js'
import type { Io } from '../src/io.js'
import { run } from '../src/program.js'

const repoRoot = resolve(import.meta.dirname, '../../..')

/** libpg-query, as the classifier package resolves it (the CLI does not depend on it directly). */
interface LibPgQuery {
  loadModule(): Promise<void>
  parseSync(sql: string): unknown
}
const libpg = createRequire(resolve(repoRoot, 'packages/classifier/package.json'))('libpg-query') as LibPgQuery

const missing =
  'The Postgres regression corpus was not found: expected ../shared/corpus/postgres-regress/*.sql next to the ' +
  'repository, or $DDL_CORPUS_DIR. ddl check was not run over it.'

const corpus = corpusDir()

if (corpus === undefined) {
  if (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') {
    it('finds the regression corpus (required in CI)', () => {
      expect.fail(missing)
    })
  } else {
    console.warn(`check.corpus.test: SKIPPED. ${missing}`)
    it.skip('runs ddl check over the regression corpus (corpus not found)', () => {})
  }
} else {
  /** Runs `ddl check` in-process in the corpus directory. */
  const ddlCheck = async (
    argv: readonly string[],
    stdin = '',
  ): Promise<{ code: number; stdout: string; stderr: string }> => {
    const out: string[] = []
    const errors: string[] = []
    const io: Io = {
      stdout: (text) => out.push(text),
      stderr: (text) => errors.push(text),
      readStdin: async () => stdin,
      env: {},
      cwd: corpus,
      color: false,
    }
    const code = await run(['check', ...argv], { io, exitCode: 0 }, [registerCheck])
    return { code, stdout: out.join(''), stderr: errors.join('') }
  }

  const names = readdirSync(corpus)
    .filter((f) => f.endsWith('.sql'))
    .sort()
  const utf8 = new TextDecoder('utf-8', { fatal: true })
  const notUtf8 = names.filter((name) => {
    try {
      utf8.decode(readFileSync(join(corpus, name)))
      return false
    } catch {
      return true
    }
  })

  describe('ddl check on the Postgres regression corpus', () => {
    it('checks all 217 files without a crash; every statement the grammar accepts is classified from its AST', async () => {
      const t0 = performance.now()
      const whole = await ddlCheck(['.', '--format', 'json', '--fail-on', 'never'])
      const elapsed = performance.now() - t0
      // A file that is not UTF-8 (collate.windows.win1252.sql is Windows-1252) is an input error:
      // exit 2, named on stderr, the others still checked.
      expect(whole.stderr.split('\n').filter((line) => line !== '')).toEqual(
        notUtf8.map((name) => expect.stringContaining(`ddl check: ${name}: not valid UTF-8 (line `)),
      )
      expect(whole.code).toBe(notUtf8.length > 0 ? 2 : 0)
      const files = [...(JSON.parse(whole.stdout) as JsonReport).files]
      expect(files.length).toBe(names.length - notUtf8.length)
      // Those files are checked too, decoded as Latin-1 and read from standard input.
      for (const name of notUtf8) {
        const alone = await ddlCheck(
          ['-', '--format', 'json', '--fail-on', 'never'],
          readFileSync(join(corpus, name), 'latin1'),
        )
        expect(alone.code).toBe(0)
        files.push(...(JSON.parse(alone.stdout) as JsonReport).files)
      }
      expect(files.length).toBe(names.length)
      expect(names.length).toBeGreaterThanOrEqual(217)

      await libpg.loadModule()
      let statements = 0
      let unparsed = 0
      const byTier = { safe: 0, cautious: 0, destructive: 0 }
      const acceptedButUnparsed: string[] = []
      for (const file of files) {
        for (const statement of file.statements) {
          statements++
          byTier[statement.tier]++
          if (statement.kind !== 'Unparsed') continue
          unparsed++
          expect(statement.tier).not.toBe('safe')
          expect(statement.parseError).toBeDefined()
          // The grammar must reject it when it stands alone; otherwise the fallback hid a real verdict.
          let parses = true
          try {
            libpg.parseSync(statement.text)
          } catch {
            parses = false
          }
          if (parses) acceptedButUnparsed.push(`${file.path}:${statement.line}: ${statement.text.slice(0, 80)}`)
        }
      }
      console.info(
        `check.corpus: ${files.length} files (${notUtf8.length} not UTF-8, checked as Latin-1 from stdin), ` +
          `${statements} statements; ddl check . took ${elapsed.toFixed(0)} ms: ` +
          `${statements - unparsed} parsed, ${unparsed} unparsed (rejected by the grammar alone); ` +
          `${byTier.safe} safe, ${byTier.cautious} cautious, ${byTier.destructive} destructive.`,
      )
      expect(acceptedButUnparsed).toEqual([])
      expect(statements - unparsed).toBeGreaterThan(40_000)
    }, 120_000)
  })
}
