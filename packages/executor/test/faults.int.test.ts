import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { type ExecutorError, type InputError, type PostgresError, readSqlFile, unwrap } from '@ddl/executor/internal'
import { beforeAll, describe, expect, it } from 'vitest'
import { testDatabase, withClient } from '../../../test/support/database.js'
import { deadUrl, direct, type Harness, harness, tableRows } from './support.js'

const database = testDatabase('faults')
let h: Harness

beforeAll(async () => {
  h = harness(database)
  await direct(database.url, "CREATE TABLE held (id int, name text); INSERT INTO held VALUES (1, 'a')")
})

/** Everything a person or a log could ever see of an error. */
function everything(error: unknown): string {
  return `${String(error)}\n${inspect(error, { depth: 20, showHidden: true })}\n${JSON.stringify(error)}`
}

describe('bad input', () => {
  it.each([
    ['empty', ''],
    ['blank', '  \n\t '],
    ['comments only', '-- nothing here\n/* nor here */'],
    ['semicolons only', ';;\n;'],
  ])('refuses %s SQL with an InputError, without connecting', async (_name, sql) => {
    const offline = harness(database, { url: await deadUrl(database) })
    const error = (await offline.db.execute(sql))._unsafeUnwrapErr() as InputError
    expect(error.kind).toBe('InputError')
    expect(error.problem).toBe('empty')
    expect(error.message).toMatch(/^No SQL (statement )?to run/)
    expect(offline.records()).toEqual([])
  })

  it('refuses a NUL byte and says where it is', async () => {
    const error = (await h.db.execute('CREATE TABLE n (id int);\nSELECT 1\u0000'))._unsafeUnwrapErr() as InputError
    expect(error).toMatchObject({ kind: 'InputError', problem: 'nul-byte', line: 2, column: 9 })
    expect(error.message).toContain('save it as UTF-8 text')
    expect(await unwrap(h.db.tableExists('n'))).toBe(false)
  })

  it('refuses text that is not valid Unicode', async () => {
    const error = (await h.db.execute('SELECT 1 -- \ud800'))._unsafeUnwrapErr()
    expect(error).toMatchObject({ kind: 'InputError', problem: 'invalid-unicode', line: 1 })
  })

  it('refuses a file that is not valid UTF-8, naming the line', async () => {
    const path = join(h.dir, 'latin1.sql')
    writeFileSync(
      path,
      Buffer.concat([Buffer.from('CREATE TABLE a (id int);\n-- caf'), Buffer.from([0xe9]), Buffer.from('\n')]),
    )
    const error = (await readSqlFile(path))._unsafeUnwrapErr()
    expect(error).toMatchObject({ kind: 'InputError', problem: 'invalid-utf8', line: 2, path })
    expect(error.message).toContain('byte 0xe9 at line 2')
  })

  it('refuses a UTF-16 file and reads a UTF-8 file with a byte-order mark', async () => {
    const utf16 = join(h.dir, 'utf16.sql')
    writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('SELECT 1', 'utf16le')]))
    expect((await readSqlFile(utf16))._unsafeUnwrapErr().problem).toBe('utf16')
    const bom = join(h.dir, 'bom.sql')
    writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('SELECT 1')]))
    expect((await readSqlFile(bom))._unsafeUnwrap()).toBe('SELECT 1')
    expect((await readSqlFile(join(h.dir, 'missing.sql')))._unsafeUnwrapErr().problem).toBe('unreadable')
  })

  it('runs a 10 MB script in one transaction, and leaves nothing when its last statement fails', async () => {
    const chunk = (from: number) =>
      `INSERT INTO big VALUES ${Array.from({ length: 1000 }, (_, i) => `(${from + i}, '${'x'.repeat(90)}')`).join(', ')}`
    const inserts: string[] = []
    let size = 0
    for (let i = 0; size < 10 * 1024 * 1024; i++) {
      const statement = chunk(i * 1000)
      inserts.push(statement)
      size += statement.length
    }
    const script = `CREATE TABLE big (id int PRIMARY KEY, payload text);\n${inserts.join(';\n')}`
    expect(script.length).toBeGreaterThan(10 * 1024 * 1024)

    const failing = await h.db.execute(`${script};\nINSERT INTO big VALUES (0, 'duplicate')`)
    const error = failing._unsafeUnwrapErr() as PostgresError
    expect(error).toMatchObject({ kind: 'PostgresError', code: '23505', line: inserts.length + 2 })
    expect(await unwrap(h.db.tableExists('big'))).toBe(false)

    const result = await unwrap(h.db.execute(script))
    expect(result.statements).toHaveLength(inserts.length + 1)
    expect(await tableRows(database.url, 'big')).toBe(inserts.length * 1000)
  }, 120_000)
})

describe('server faults', () => {
  it('explains a server that is down, with a next step and no secret', async () => {
    const url = await deadUrl(database)
    const offline = harness(database, { url })
    const error = (await offline.db.execute('CREATE TABLE t (id int)'))._unsafeUnwrapErr()
    expect(error.kind).toBe('ConnectionError')
    expect(error.message).toMatch(/connection refused\. Is the server running/)
    expect(everything(error)).not.toContain(database.password)
    expect(offline.records().map((r) => r.outcome)).toEqual(['intent', 'failed'])
    expect(JSON.stringify(offline.records())).not.toContain(database.password)
  })

  it('explains a wrong password without showing either password', async () => {
    const url = new URL(database.url)
    const wrong = 'wrong-Pa55word-xyz'
    url.password = wrong
    const bad = harness(database, { url: url.toString() })
    const error = (await bad.db.query('SELECT 1'))._unsafeUnwrapErr()
    expect(error).toMatchObject({ kind: 'ConnectionError', code: '28P01' })
    expect(error.message).toContain('wrong password')
    expect(everything(error)).not.toContain(wrong)
    expect(everything(error)).not.toContain(database.password)
  })

  it('explains a database that does not exist', async () => {
    const url = new URL(database.url)
    url.pathname = '/no_such_database'
    const error = (await harness(database, { url: url.toString() }).db.tableExists('x'))._unsafeUnwrapErr()
    expect(error).toMatchObject({ kind: 'ConnectionError', code: '3D000' })
    expect(error.message).toContain('Check the database name')
  })

  it('gives up on a lock held by another connection after lock_timeout, and changes nothing', async () => {
    const quick = harness(database, { timeouts: { lockTimeoutMs: 300 } })
    await withClient(database.url, async (other) => {
      await other.query('BEGIN')
      await other.query('SELECT * FROM held')
      const error = (
        await quick.db.execute('CREATE TABLE side (id int);\nALTER TABLE held ADD COLUMN extra int')
      )._unsafeUnwrapErr() as PostgresError
      expect(error).toMatchObject({ kind: 'PostgresError', code: '55P03', line: 2 })
      expect(error.message).toContain('lock_timeout is 300 ms')
      expect(error.message).toContain('pg_stat_activity')
      expect(error.message).toContain('The transaction was rolled back; nothing was changed.')
      await other.query('ROLLBACK')
    })
    expect(await unwrap(h.db.tableExists('side'))).toBe(false)
    expect((await unwrap(h.db.getSchema('held'))).columns.map((c) => c.name)).toEqual(['id', 'name'])
  })

  it('cancels a statement that runs past statement_timeout', async () => {
    const slow = harness(database, { timeouts: { statementTimeoutMs: 200 } })
    const error = (
      await slow.db.execute('CREATE TABLE slow AS SELECT count(*) FROM generate_series(1, 200000000)')
    )._unsafeUnwrapErr() as PostgresError
    expect(error).toMatchObject({ kind: 'PostgresError', code: '57014' })
    expect(error.message).toContain('statementTimeoutMs')
  })

  it('keeps the server detail and hint and points at the line and column in the caller SQL', async () => {
    const error = (
      await h.db.execute('CREATE TABLE pos (id int PRIMARY KEY, name text);\n\nSELECT id, nmae\n  FROM pos')
    )._unsafeUnwrapErr() as PostgresError
    expect(error).toMatchObject({ kind: 'PostgresError', code: '42703', line: 3, column: 12, statementIndex: 1 })
    expect(error.hint).toMatch(/Perhaps you meant to reference the column "pos.name"/)
    expect(error.message).toContain('Hint: Perhaps you meant')
    const dup = (
      await h.db.execute(
        'CREATE TABLE dup (id int PRIMARY KEY); INSERT INTO dup VALUES (1); INSERT INTO dup VALUES (1)',
      )
    )._unsafeUnwrapErr() as PostgresError
    expect(dup.detail).toBe('Key (id)=(1) already exists.')
    expect(dup.constraint).toBe('dup_pkey')
    expect(dup.message).toContain('Detail: Key (id)=(1) already exists.')
  })

  it('recovers after the server kills its connection mid-run', async () => {
    const result = await h.db.execute('SELECT pg_terminate_backend(pg_backend_pid())', { iKnowWhatImDoing: true })
    const error = result._unsafeUnwrapErr() as ExecutorError
    expect(error.kind).toBe('ConnectionError')
    expect(error.message).toMatch(
      /^The connection to Postgres at 127\.0\.0\.1:\d+\/\w+ was lost while running line 1 \(terminating connection due to administrator command\)\. Nothing was committed\./,
    )
    expect(await unwrap(h.db.tableExists('held'))).toBe(true)
  })
})
