import { type MigrationRunError, runMigrationsFromDir } from '@ddl/executor/internal'
import { describe, expect, it } from 'vitest'
import {
  auditRecords,
  freshDatabase,
  migrationDir,
  runOptions,
  tableExists,
  trackingRows,
} from './migrations-support.js'

/** Statements that cannot run in a transaction, wherever they hide: refused up front, or run outside one. */
describe('statements that cannot run in a transaction, hidden in bodies', () => {
  it('runs a file holding only a DO block that commits outside a transaction', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({
      '1_t.sql': 'CREATE TABLE t (id int);\n',
      '2_batches.sql':
        'DO $$\nBEGIN\n  FOR i IN 1..3 LOOP\n    INSERT INTO t VALUES (i);\n    COMMIT;\n  END LOOP;\nEND\n$$;\n',
    })
    const report = (await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrap()
    expect(report.applied.map((m) => [m.name, m.transactional])).toEqual([
      ['1_t.sql', true],
      ['2_batches.sql', false],
    ])
    expect((await trackingRows(url)).map((r) => r.transactional)).toEqual([true, false])
  })

  it('refuses, before anything runs, a file mixing a committing DO block with other statements', async () => {
    const url = await freshDatabase()
    const options = runOptions(url)
    const dir = migrationDir({
      '1_t.sql': 'CREATE TABLE t (id int);\n',
      '2_mixed.sql': 'CREATE TABLE u (id int);\nDO $$ BEGIN INSERT INTO u VALUES (1); COMMIT; END $$;\n',
    })
    const error = (await runMigrationsFromDir(dir, options))._unsafeUnwrapErr() as MigrationRunError
    expect(error.problem).toBe('refused')
    expect(error.issues?.map((i) => [i.name, i.reason, i.line])).toEqual([['2_mixed.sql', 'mixed', 2]])
    expect(await tableExists(url, 't')).toBe(false)
    expect(auditRecords(options.auditPath).every((r) => r.outcome === 'blocked')).toBe(true)
  })

  it('refuses CREATE INDEX CONCURRENTLY or VACUUM inside a DO block, which fail in any function', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({
      '1_t.sql': 'CREATE TABLE t (a int);\n',
      '2_cic.sql': "DO $$ BEGIN EXECUTE 'CREATE INDEX CONCURRENTLY t_a ON t (a)'; END $$;\n",
      '3_vacuum.sql': 'DO $$ BEGIN VACUUM t; END $$;\n',
    })
    const error = (await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrapErr() as MigrationRunError
    expect(error.problem).toBe('refused')
    expect(error.issues?.map((i) => [i.name, i.reason])).toEqual([
      ['2_cic.sql', 'body'],
      ['3_vacuum.sql', 'body'],
    ])
    expect(error.message).toContain(
      'runs CREATE INDEX CONCURRENTLY t_a, which Postgres refuses inside any DO block, function or procedure',
    )
    expect(await tableExists(url, 't')).toBe(false)
  })

  it('refuses a file that creates a committing procedure and CALLs it with other statements', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({
      '1_proc.sql':
        'CREATE TABLE t (id int);\n' +
        'CREATE PROCEDURE fill() LANGUAGE plpgsql AS $$ BEGIN INSERT INTO t VALUES (1); COMMIT; END $$;\n' +
        'CALL fill();\n',
    })
    const error = (await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrapErr() as MigrationRunError
    expect(error.issues?.map((i) => [i.reason, i.line])).toEqual([['mixed', 3]])
    expect(await tableExists(url, 't')).toBe(false)
  })

  it('runs VACUUM alone outside a transaction, and refuses it beside other statements', async () => {
    const url = await freshDatabase()
    const alone = migrationDir({ '1_t.sql': 'CREATE TABLE t (a int);\n', '2_vacuum.sql': 'VACUUM t;\n' })
    const report = (await runMigrationsFromDir(alone, runOptions(url)))._unsafeUnwrap()
    expect(report.applied.map((m) => m.transactional)).toEqual([true, false])
    const url2 = await freshDatabase()
    const mixed = migrationDir({ '1_t.sql': 'CREATE TABLE t (a int);\nVACUUM t;\n' })
    const error = (await runMigrationsFromDir(mixed, runOptions(url2)))._unsafeUnwrapErr() as MigrationRunError
    expect(error.issues?.map((i) => i.reason)).toEqual(['mixed'])
  })

  it("runs a mixed file outside a transaction when the layout's own marker says so", async () => {
    const url = await freshDatabase()
    const dir = migrationDir({
      '20240101000000_t.sql': '-- migrate:up\nCREATE TABLE t (id int);\n-- migrate:down\nDROP TABLE t;\n',
      '20240102000000_fill.sql':
        '-- migrate:up transaction:false\nCREATE TABLE u (id int);\n' +
        'DO $$ BEGIN INSERT INTO u VALUES (1); COMMIT; END $$;\n-- migrate:down\nDROP TABLE u;\n',
    })
    const report = (await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrap()
    expect(report.layout).toBe('dbmate')
    expect(report.applied.map((m) => [m.name, m.transactional])).toEqual([
      ['20240101000000_t.sql', true],
      ['20240102000000_fill.sql', false],
    ])
    expect(await tableExists(url, 'u')).toBe(true)
  })

  it('still refuses a DO block with CREATE INDEX CONCURRENTLY under a disable-transaction marker', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({
      '0001-t.sql': 'CREATE TABLE t (a int);\n',
      '0002-index.sql':
        "-- postgres-migrations disable-transaction\nDO $$ BEGIN EXECUTE 'CREATE INDEX CONCURRENTLY t_a ON t (a)'; END $$;\n",
    })
    const error = (await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrapErr() as MigrationRunError
    expect(error.issues?.map((i) => [i.name, i.reason, i.line])).toEqual([['0002-index.sql', 'body', 2]])
    expect(await tableExists(url, 't')).toBe(false)
  })
})
