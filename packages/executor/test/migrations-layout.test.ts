import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { classify, init } from '@ddl/classifier'
import {
  compareMigrationNames,
  findMigrations,
  type MigrationRunError,
  stripTransactionBlocks,
} from '@ddl/executor/internal'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ddl-layout-'))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return dir
}

describe('natural order', () => {
  it('sorts 2_x.sql before 10_y.sql and 9 before 10 before 100', () => {
    const names = ['10_y.sql', '2_x.sql', '100_z.sql', '1_a.sql', '9_b.sql', '002_c.sql']
    expect([...names].sort(compareMigrationNames)).toEqual([
      '1_a.sql',
      '002_c.sql',
      '2_x.sql',
      '9_b.sql',
      '10_y.sql',
      '100_z.sql',
    ])
  })

  it('orders numbered names by their numbers, whatever the numbers', () => {
    fc.assert(
      fc.property(fc.nat(10_000_000), fc.nat(10_000_000), (a, b) => {
        fc.pre(a !== b)
        const sign = Math.sign(compareMigrationNames(`${a}_m.sql`, `${b}_m.sql`))
        expect(sign).toBe(Math.sign(a - b))
      }),
    )
  })

  it('is a total order: antisymmetric, and equal only for equal names', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const ab = Math.sign(compareMigrationNames(a, b))
        expect(Math.sign(compareMigrationNames(b, a))).toBe(-ab || 0)
        expect(ab === 0).toBe(a === b)
      }),
    )
  })
})

describe('layout detection', () => {
  it('finds a flat folder of *.sql files and ignores hidden files and other files', async () => {
    const dir = folder({
      '10_b.sql': 'SELECT 1;',
      '2_a.sql': 'SELECT 1;',
      'README.md': '# notes',
      '.3_hidden.sql': 'SELECT 1;',
    })
    const source = (await findMigrations(dir))._unsafeUnwrap()
    expect(source.layout).toBe('flat')
    expect(source.entries.map((e) => e.name)).toEqual(['2_a.sql', '10_b.sql'])
  })

  it('finds Prisma folders, names them by folder, and notes folders without migration.sql', async () => {
    const dir = folder({
      'migration_lock.toml': 'provider = "postgresql"\n',
      '20240102000000_b/migration.sql': 'SELECT 1;',
      '20240101000000_a/migration.sql': 'SELECT 1;',
      'stray/notes.txt': 'x',
    })
    const source = (await findMigrations(dir))._unsafeUnwrap()
    expect(source.layout).toBe('prisma')
    expect(source.entries.map((e) => e.name)).toEqual(['20240101000000_a', '20240102000000_b'])
    expect(source.entries[0]?.path).toBe(join(dir, '20240101000000_a', 'migration.sql'))
    expect(source.notes).toEqual(['Ignored 1 folder without migration.sql: stray.'])
  })

  it('follows a symlinked Prisma folder', async () => {
    const target = folder({ 'migration.sql': 'SELECT 1;' })
    const dir = folder({})
    symlinkSync(target, join(dir, '20240101000000_linked'))
    const source = (await findMigrations(dir))._unsafeUnwrap()
    expect(source.entries.map((e) => e.name)).toEqual(['20240101000000_linked'])
  })

  it('says what it expected when a folder holds no migration, or does not exist', async () => {
    const empty = (await findMigrations(folder({ 'notes.txt': 'x' })))._unsafeUnwrapErr() as MigrationRunError
    expect(empty.problem).toBe('layout')
    expect(empty.message).toContain('it holds 1 entry, none a migration')
    const missing = (await findMigrations('/nonexistent/migrations'))._unsafeUnwrapErr()
    expect(missing.message).toBe('Cannot read migrations from /nonexistent/migrations: it does not exist.')
    const file = folder({ 'one.sql': 'SELECT 1;' })
    const notDir = (await findMigrations(join(file, 'one.sql')))._unsafeUnwrapErr()
    expect(notDir.message).toContain('it is a file, not a directory')
  })
})

describe('transaction blocks in a migration file', () => {
  beforeAll(async () => {
    await init()
  })

  const strip = (sql: string) => stripTransactionBlocks(classify(sql)._unsafeUnwrap().statements)

  it('takes out plain BEGIN ... COMMIT blocks, START TRANSACTION and END included', () => {
    const result = strip(
      'CREATE TABLE a (id int);\nBEGIN;\nCREATE TABLE b (id int);\nCOMMIT;\nSTART TRANSACTION;\nCREATE TABLE c (id int);\nEND;\n',
    )
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.kept.map((s) => s.text)).toEqual([
      'CREATE TABLE a (id int)',
      'CREATE TABLE b (id int)',
      'CREATE TABLE c (id int)',
    ])
    expect(result.stripped.map((s) => s.span.line)).toEqual([2, 4, 5, 7])
  })

  it.each([
    ['ROLLBACK', 'BEGIN; CREATE TABLE a (id int); ROLLBACK;', 'ROLLBACK cannot be taken out'],
    ['a savepoint', 'BEGIN; SAVEPOINT s; COMMIT;', 'SAVEPOINT cannot be taken out'],
    ['an isolation level', 'BEGIN ISOLATION LEVEL SERIALIZABLE; COMMIT;', 'sets transaction options'],
    ['READ ONLY', 'START TRANSACTION READ ONLY; COMMIT;', 'sets transaction options'],
    ['COMMIT AND CHAIN', 'BEGIN; COMMIT AND CHAIN; COMMIT;', 'COMMIT AND CHAIN'],
    ['a nested BEGIN', 'BEGIN; BEGIN; COMMIT; COMMIT;', 'inside the block opened at line 1'],
    ['a COMMIT without BEGIN', 'CREATE TABLE a (id int); COMMIT;', 'has no BEGIN before it'],
    ['an unclosed BEGIN', 'BEGIN; CREATE TABLE a (id int);', 'is never committed'],
    ['PREPARE TRANSACTION', "BEGIN; PREPARE TRANSACTION 'x';", 'cannot be taken out'],
  ])('refuses %s', (_name, sql, reason) => {
    const result = strip(sql)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.reason).toContain(reason)
  })

  it('leaves a file without transaction control as it is', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('CREATE TABLE a (id int)', 'SELECT 1', "COMMENT ON TABLE a IS 'x'"), { maxLength: 6 }),
        (parts) => {
          const statements = classify(parts.map((p) => `${p};`).join('\n'))._unsafeUnwrap().statements
          const result = stripTransactionBlocks(statements)
          expect(result.ok && result.kept.length === statements.length && result.stripped.length === 0).toBe(true)
        },
      ),
      { numRuns: 50 },
    )
  })
})
