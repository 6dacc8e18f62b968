/**
 * The README's "Library usage" example, run as written with Node against the test database, through
 * the built package (run `pnpm build` first; `pnpm test` does).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { testDatabase } from '../../../test/support/database.js'

const database = testDatabase('readme')
const packageDir = resolve(import.meta.dirname, '..')
const readme = readFileSync(resolve(packageDir, '../../README.md'), 'utf8')

function example(): string {
  const section = readme.slice(readme.indexOf('## Library usage'))
  const match = /```js\n([\s\S]*?)```/.exec(section)
  if (match?.[1] === undefined) throw new Error('README has no js block under "## Library usage"')
  return match[1]
}

describe('the README library example', () => {
  it('runs as written and prints the schema, the dry run, the rehearsal and the refusal', () => {
    expect(existsSync(join(packageDir, 'dist/index.js')), 'run pnpm build first').toBe(true)
    const dir = mkdtempSync(join(tmpdir(), 'ddl-readme-'))
    mkdirSync(join(dir, 'node_modules/@ddl'), { recursive: true })
    symlinkSync(packageDir, join(dir, 'node_modules/@ddl/executor'), 'dir')
    writeFileSync(join(dir, 'campaigns.mjs'), example())
    const run = spawnSync(process.execPath, ['campaigns.mjs'], {
      cwd: dir,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        DDL_DATABASE_URL: database.url,
        DDL_AUDIT_LOG: join(dir, 'audit.jsonl'),
      },
      timeout: 60_000,
    })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    const lines = run.stdout.split('\n')
    expect(lines.slice(0, 2)).toEqual(['id: integer', 'status: text'])
    expect(lines).toContain('[DRY RUN] Would execute: DROP TABLE campaigns')
    expect(lines).toContain('[REHEARSAL] Ran in a transaction and rolled it back: nothing was changed.')
    expect(lines).toContain('Destructive operation blocked: DROP TABLE campaigns')
    expect(lines).toContain('Use iKnowWhatImDoing: true to override')
    expect(run.stdout).not.toContain(database.password)
    expect(readFileSync(join(dir, 'audit.jsonl'), 'utf8')).toContain('"outcome":"blocked"')
  })
})
