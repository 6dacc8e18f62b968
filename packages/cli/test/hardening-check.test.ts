/**
 * `ddl check` as a real process on hostile files (issue 11): SQL nested 10,000 deep, one shape after
 * another, and a 50 MB file. The process must survive, give each deep statement a fail-closed
 * verdict, keep checking the files after them, and exit with the code of what it found.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { JsonReport } from '../src/format/json.js'

const bin = fileURLToPath(new URL('../bin/ddl.js', import.meta.url))
const built = existsSync(fileURLToPath(new URL('../dist/main.js', import.meta.url)))
const N = 10_000

function check(cwd: string, args: readonly string[]) {
  return spawnSync(process.execPath, [bin, 'check', ...args, '--format', 'json'], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 256 * 1024 * 1024,
    timeout: 240_000,
  })
}

describe('ddl check on hostile files, as a process', () => {
  it('is built (pnpm build; pnpm test builds first)', () => {
    expect(built, 'packages/cli/dist/main.js is missing: run pnpm build').toBe(true)
  })

  it('survives files nested 10,000 deep, gives each a fail-closed verdict, and checks the files after them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ddl-check-deep-'))
    const files: Record<string, string> = {
      '01_parens.sql': `SELECT ${'('.repeat(N)}1${')'.repeat(N)};\n`,
      '02_subqueries.sql': `SELECT * FROM ${'(SELECT * FROM '.repeat(N)}users${') s'.repeat(N)};\n`,
      '03_delete.sql': `CREATE TABLE ok (id int);\nDELETE FROM users WHERE id IN ${'(SELECT id FROM users WHERE id IN '.repeat(N)}(1)${')'.repeat(N)};\n`,
      '04_is_not_null.sql': `SELECT true${' IS NOT NULL'.repeat(N)};\n`,
      '05_collate.sql': `SELECT 'a'${' COLLATE "C"'.repeat(N)};\n`,
      '06_joins.sql': `SELECT 1 FROM t${' JOIN t ON true'.repeat(N)};\n`,
      '07_union.sql': `SELECT 1${' UNION SELECT 1'.repeat(N)};\n`,
      '08_do_block.sql': `DO $$ BEGIN ${'IF true THEN '.repeat(N)}DELETE FROM users;${' END IF;'.repeat(N)} END $$;\n`,
      '09_safe.sql': 'CREATE TABLE after_all (id int);\n',
    }
    for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql)
    const r = check(dir, Object.keys(files))
    expect(r.signal).toBeNull()
    expect(r.stderr).toBe('')
    expect(r.status).toBe(1) // destructive: the DELETE and the DO block
    const report = JSON.parse(r.stdout) as JsonReport
    const byFile = new Map(report.files.map((f) => [f.path, f]))
    expect([...byFile.keys()].sort()).toEqual(Object.keys(files))
    for (const name of Object.keys(files).filter(
      (n) => !['03_delete.sql', '08_do_block.sql', '09_safe.sql'].includes(n),
    )) {
      const statements = byFile.get(name)?.statements ?? []
      expect(
        statements.map((s) => [s.kind, s.tier]),
        name,
      ).toEqual([['Unparsed', 'cautious']])
      expect(statements[0]?.parseError?.message, name).toBe('statement nested too deeply for the parser; not parsed')
    }
    expect(byFile.get('03_delete.sql')?.statements.map((s) => [s.kind, s.tier])).toEqual([
      ['CreateStmt', 'safe'],
      ['Unparsed', 'destructive'],
    ])
    expect(byFile.get('08_do_block.sql')?.tier).toBe('destructive')
    expect(byFile.get('09_safe.sql')?.statements.map((s) => [s.kind, s.tier])).toEqual([['CreateStmt', 'safe']])
  }, 240_000)

  it('checks a 50 MB file: every statement, its tier, and the destructive one in the middle', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ddl-check-big-'))
    const note = 'a note - with (brackets) [and] -- dashes, /* comment markers */ ; semicolons '
    const row = (i: number) => `(${i}, '${note}${i}', '2024-01-0${(i % 9) + 1}', -${i}.5)`
    const insert = (n: number) =>
      `INSERT INTO seed (id, note, day, delta) VALUES ${Array.from({ length: 400 }, (_, i) => row(n * 400 + i)).join(',\n  ')}`
    const parts: string[] = []
    let size = 0
    for (let n = 0; size < 50 * 1024 * 1024; n++) {
      const statement = n === 200 ? 'DROP TABLE seed' : insert(n)
      parts.push(statement)
      size += statement.length + 2
    }
    writeFileSync(join(dir, 'big.sql'), `${parts.join(';\n')};\n`)
    const r = check(dir, ['big.sql'])
    expect(r.signal).toBeNull()
    expect(r.stderr).toBe('')
    expect(r.status).toBe(1)
    const statements = (JSON.parse(r.stdout) as JsonReport).files[0]?.statements ?? []
    expect(statements).toHaveLength(parts.length)
    expect(statements.filter((s) => s.kind === 'InsertStmt' && s.tier === 'safe')).toHaveLength(parts.length - 1)
    expect(statements[200]).toMatchObject({ kind: 'DropStmt', tier: 'destructive', line: 1 + 200 * 400 })
  }, 240_000)
})
