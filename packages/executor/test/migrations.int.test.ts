import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  type MigrationEvent,
  type MigrationRunError,
  migrationStatus,
  planMigrations,
  runMigration,
  runMigrationsFromDir,
} from '@ddl/executor/internal'
import { describe, expect, it } from 'vitest'
import {
  auditRecords,
  freshDatabase,
  migrationDir,
  runOptions,
  sql,
  tableExists,
  trackingRows,
} from './migrations-support.js'

function migrationError(error: unknown): MigrationRunError {
  const e = error as MigrationRunError
  expect(e.kind).toBe('MigrationError')
  return e
}

describe('ordering and tracking', () => {
  it('applies flat files in natural order: 2_x.sql before 10_y.sql', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({
      '10_orders.sql': 'CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id));\n',
      '2_users.sql': 'CREATE TABLE users (id int PRIMARY KEY);\n',
      '1_schema.sql': 'CREATE TABLE log (name text);\n',
    })
    const report = (await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrap()
    expect(report.layout).toBe('flat')
    expect(report.applied.map((m) => m.name)).toEqual(['1_schema.sql', '2_users.sql', '10_orders.sql'])
    expect((await trackingRows(url)).map((r) => r.name)).toEqual(['1_schema.sql', '2_users.sql', '10_orders.sql'])
    expect(report.message).toMatch(/^Applied 3 migrations in \d+ ms\.$/)
  })

  it('records name, SHA-256 checksum, tier, applier and mode in public.ddl_migrations', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({ '1_a.sql': 'CREATE TABLE a (id int);\n' })
    ;(await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrap()
    const rows = await sql<Record<string, unknown>>(url, 'SELECT * FROM public.ddl_migrations')
    expect(rows).toHaveLength(1)
    const row = rows[0] ?? {}
    expect(Object.keys(row).sort()).toEqual(
      ['applied_at', 'applied_by', 'checksum', 'duration_ms', 'name', 'tier', 'transactional'].sort(),
    )
    expect(row.name).toBe('1_a.sql')
    expect(row.checksum).toBe(createHash('sha256').update('CREATE TABLE a (id int);\n').digest('hex'))
    expect(row.tier).toBe('safe')
    expect(row.applied_by).toBe('tester')
    expect(row.transactional).toBe(true)
    expect(row.applied_at).toBeInstanceOf(Date)
  })

  it('skips applied files on a second run and applies nothing', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({ '1_a.sql': 'CREATE TABLE a (id int);\n', '2_b.sql': 'CREATE TABLE b (id int);\n' })
    ;(await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrap()
    const again = (await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrap()
    expect(again.applied).toEqual([])
    expect(again.alreadyApplied).toEqual(['1_a.sql', '2_b.sql'])
    expect(again.message).toMatch(/^Nothing to apply: all 2 migrations are applied in \d+ ms\.$/)
    writeFileSync(join(dir, '3_c.sql'), 'CREATE TABLE c (id int);\n')
    const third = (await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrap()
    expect(third.applied.map((m) => m.name)).toEqual(['3_c.sql'])
    expect(await trackingRows(url)).toHaveLength(3)
  })

  it('creates the tracking table on the first run only, and not for status or plan', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({ '1_a.sql': 'CREATE TABLE a (id int);\n' })
    const status = (await migrationStatus(dir, runOptions(url)))._unsafeUnwrap()
    expect(status.tracking).toBe(false)
    expect(status.entries.map((e) => e.state)).toEqual(['pending'])
    ;(await planMigrations(dir, runOptions(url)))._unsafeUnwrap()
    expect(await tableExists(url, 'ddl_migrations')).toBe(false)
    ;(await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrap()
    expect(await tableExists(url, 'ddl_migrations')).toBe(true)
    expect(await tableExists(url, 'ddl_migration_claims')).toBe(false)
  })

  it('applies a single file with runMigration, tracked and skipped on rerun', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({ '001_add_users_table.sql': 'CREATE TABLE users (id int);\n' })
    const file = join(dir, '001_add_users_table.sql')
    expect((await runMigration(file, runOptions(url)))._unsafeUnwrap().applied.map((m) => m.name)).toEqual([
      '001_add_users_table.sql',
    ])
    expect((await runMigration(file, runOptions(url)))._unsafeUnwrap().alreadyApplied).toEqual([
      '001_add_users_table.sql',
    ])
  })
})

describe('checksums', () => {
  it('refuses a file changed after it was applied, naming it, and runs nothing', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({ '1_a.sql': 'CREATE TABLE a (id int);\n' })
    ;(await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrap()
    writeFileSync(join(dir, '1_a.sql'), 'CREATE TABLE a (id bigint);\n')
    writeFileSync(join(dir, '2_b.sql'), 'CREATE TABLE b (id int);\n')
    const error = migrationError((await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrapErr())
    expect(error.problem).toBe('checksum')
    expect(error.file).toBe('1_a.sql')
    expect(error.message).toContain('Migration 1_a.sql changed after it was applied. Nothing was run.')
    expect(error.message).toContain('acceptChanged')
    expect(await tableExists(url, 'b')).toBe(false)
  })

  it('accepts a changed file when asked: records the new checksum and audits it', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({ '1_a.sql': 'CREATE TABLE a (id int);\n' })
    ;(await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrap()
    const before = (await trackingRows(url))[0]?.checksum
    writeFileSync(join(dir, '1_a.sql'), '-- a comment added later\nCREATE TABLE a (id int);\n')
    const options = runOptions(url, { acceptChanged: ['1_a.sql'] })
    const report = (await runMigrationsFromDir(dir, options))._unsafeUnwrap()
    expect(report.accepted).toHaveLength(1)
    expect(report.accepted[0]?.previousChecksum).toBe(before)
    const after = (await trackingRows(url))[0]?.checksum
    expect(after).not.toBe(before)
    expect(after).toBe(report.accepted[0]?.checksum)
    const records = auditRecords(options.auditPath)
    expect(records.map((r) => [r.outcome, r.source])).toEqual([
      ['intent', '1_a.sql'],
      ['committed', '1_a.sql'],
    ])
    expect(records[0]?.statement).toContain('UPDATE public.ddl_migrations SET checksum')
    // Accepted once: the next run is clean.
    expect((await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrap().accepted).toEqual([])
  })
})

describe('failures', () => {
  it('stops at a failing middle file: earlier stays applied, it and later ones do not, the error names file, line, SQLSTATE', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({
      '1_a.sql': 'CREATE TABLE a (id int);\n',
      '2_b.sql': 'CREATE TABLE b (id int);\n\nINSERT INTO missing_table VALUES (1);\n',
      '3_c.sql': 'CREATE TABLE c (id int);\n',
    })
    const options = runOptions(url)
    const error = migrationError((await runMigrationsFromDir(dir, options))._unsafeUnwrapErr())
    expect(error.problem).toBe('statement')
    expect(error.file).toBe('2_b.sql')
    expect(error.line).toBe(3)
    expect(error.sqlstate).toBe('42P01')
    expect(error.applied).toEqual(['1_a.sql'])
    expect(error.message.split('\n')[0]).toBe('Migration 2_b.sql failed at line 3 (SQLSTATE 42P01).')
    expect(error.message).toContain('relation "missing_table" does not exist')
    expect(error.message).toContain('Nothing of 2_b.sql was applied')
    expect(error.message).toContain('Not run: 1 later migration (3_c.sql).')
    expect((await trackingRows(url)).map((r) => r.name)).toEqual(['1_a.sql'])
    expect(await tableExists(url, 'a')).toBe(true)
    expect(await tableExists(url, 'b')).toBe(false)
    expect(await tableExists(url, 'c')).toBe(false)
    const outcomes = auditRecords(options.auditPath)
      .filter((r) => r.source === '2_b.sql')
      .map((r) => r.outcome)
    expect(outcomes).toEqual(['intent', 'intent', 'rolled_back', 'failed'])
    // Fixed, the rerun finishes.
    writeFileSync(join(dir, '2_b.sql'), 'CREATE TABLE b (id int);\n')
    const rerun = (await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrap()
    expect(rerun.applied.map((m) => m.name)).toEqual(['2_b.sql', '3_c.sql'])
  })

  it('keeps nothing of a file whose connection is killed mid-file, and a rerun finishes', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({
      '1_a.sql': 'CREATE TABLE a (id int);\n',
      '2_slow.sql':
        'CREATE TABLE b (id int);\nINSERT INTO b VALUES (1);\nSELECT pg_sleep(2);\nCREATE TABLE b2 (id int);\n',
      '3_c.sql': 'CREATE TABLE c (id int);\n',
    })
    const running = runMigrationsFromDir(dir, runOptions(url))
    let killed = false
    for (let i = 0; i < 100 && !killed; i++) {
      await new Promise((r) => setTimeout(r, 50))
      const rows = await sql<{ killed: boolean }>(
        url,
        `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'SELECT pg_sleep(2)%'`,
      )
      killed = rows.some((r) => r.killed)
    }
    expect(killed).toBe(true)
    const error = migrationError((await running)._unsafeUnwrapErr())
    expect(error.problem).toBe('connection')
    expect(error.file).toBe('2_slow.sql')
    expect(error.line).toBe(3)
    expect(error.message).toContain('nothing of 2_slow.sql stays')
    expect((await trackingRows(url)).map((r) => r.name)).toEqual(['1_a.sql'])
    expect(await tableExists(url, 'b')).toBe(false)
    const rerun = (await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrap()
    expect(rerun.applied.map((m) => m.name)).toEqual(['2_slow.sql', '3_c.sql'])
    expect(await sql(url, 'SELECT * FROM b')).toEqual([{ id: 1 }])
  })

  it('rolls back a file whose deferred constraint fails at COMMIT and names the file', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({
      '1_t.sql':
        'CREATE TABLE p (id int PRIMARY KEY);\n' +
        'CREATE TABLE ch (p_id int REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED);\n' +
        'INSERT INTO ch VALUES (42);\n',
    })
    const error = migrationError((await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrapErr())
    expect(error.file).toBe('1_t.sql')
    expect(error.sqlstate).toBe('23503')
    expect(await tableExists(url, 'p')).toBe(false)
    expect(await tableExists(url, 'ddl_migrations')).toBe(true)
    expect(await trackingRows(url)).toEqual([])
  })
})

describe('the gate', () => {
  it('refuses before anything runs, listing each file with its tier and the flag it needs', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({
      '1_a.sql': 'CREATE TABLE a (id int, note text);\n',
      '2_trim.sql': 'ALTER TABLE a DROP COLUMN note;\n',
      // scratch alone would lose nothing (the file made it); a, made by 1_a.sql, loses its rows.
      '3_drop.sql': 'CREATE TABLE scratch (id int);\nDROP TABLE scratch, a;\n',
    })
    const options = runOptions(url)
    const error = migrationError((await runMigrationsFromDir(dir, options))._unsafeUnwrapErr())
    expect(error.problem).toBe('refused')
    expect(error.issues.map((i) => [i.name, i.tier, i.requires])).toEqual([
      ['2_trim.sql', 'cautious', 'confirm'],
      ['3_drop.sql', 'destructive', 'iKnowWhatImDoing'],
    ])
    expect(error.message).toContain('2 of 3 pending migrations cannot run with the flags given; nothing was run.')
    expect(error.message).toContain('2_trim.sql: cautious file: needs confirm: true.')
    expect(error.message).toContain('3_drop.sql: destructive file: needs iKnowWhatImDoing: true. line 2:')
    expect(await tableExists(url, 'a')).toBe(false)
    expect(await tableExists(url, 'ddl_migrations')).toBe(false)
    expect(auditRecords(options.auditPath).map((r) => [r.source, r.outcome])).toEqual([
      ['2_trim.sql', 'blocked'],
      ['3_drop.sql', 'blocked'],
      ['3_drop.sql', 'blocked'],
    ])
    // confirm covers cautious only; the destructive file still stops the whole run.
    const confirmed = migrationError(
      (await runMigrationsFromDir(dir, runOptions(url, { confirm: true })))._unsafeUnwrapErr(),
    )
    expect(confirmed.issues.map((i) => i.name)).toEqual(['3_drop.sql'])
    const report = (await runMigrationsFromDir(dir, runOptions(url, { iKnowWhatImDoing: true })))._unsafeUnwrap()
    expect(report.applied.map((m) => [m.name, m.tier])).toEqual([
      ['1_a.sql', 'safe'],
      ['2_trim.sql', 'cautious'],
      ['3_drop.sql', 'destructive'],
    ])
  })

  it('refuses a file mixing CREATE INDEX CONCURRENTLY with transactional statements, advising a split', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({
      '1_a.sql': 'CREATE TABLE a (id int);\n',
      '2_mixed.sql': 'ALTER TABLE a ADD COLUMN email text;\nCREATE INDEX CONCURRENTLY a_email ON a (email);\n',
    })
    const error = migrationError((await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrapErr())
    expect(error.problem).toBe('refused')
    expect(error.issues).toMatchObject([{ name: '2_mixed.sql', reason: 'mixed', line: 2 }])
    expect(error.message).toContain('Split it')
    expect(await tableExists(url, 'a')).toBe(false)
  })

  it('takes a plain BEGIN ... COMMIT wrapper out and refuses ROLLBACK and isolation levels', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({ '1_wrapped.sql': 'BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n' })
    const report = (await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrap()
    expect(report.applied[0]).toMatchObject({ name: '1_wrapped.sql', statements: 1, strippedTransactionControl: 2 })
    for (const [file, text] of [
      ['2_rollback.sql', 'BEGIN;\nCREATE TABLE r (id int);\nROLLBACK;\n'],
      ['2_serializable.sql', 'BEGIN ISOLATION LEVEL SERIALIZABLE;\nCREATE TABLE r (id int);\nCOMMIT;\n'],
      ['2_commit_only.sql', 'CREATE TABLE r (id int);\nCOMMIT;\n'],
      ['2_unclosed.sql', 'BEGIN;\nCREATE TABLE r (id int);\n'],
    ] as const) {
      const one = migrationDir({ [file]: text })
      const error = migrationError((await runMigrationsFromDir(one, runOptions(url)))._unsafeUnwrapErr())
      expect(error.issues[0]?.reason, file).toBe('transaction-control')
    }
    expect(await tableExists(url, 'r')).toBe(false)
  })

  it('refuses a file that does not parse, naming its line, and runs nothing', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({
      '1_a.sql': 'CREATE TABLE a (id int);\n',
      '2_typo.sql': 'CREATE TABLE b (id int);\nALTER TABEL b ADD COLUMN x int;\n',
    })
    const error = migrationError((await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrapErr())
    expect(error.issues).toMatchObject([{ name: '2_typo.sql', reason: 'parse', line: 2 }])
    expect(await tableExists(url, 'a')).toBe(false)
  })
})

describe('files that cannot run in a transaction', () => {
  it('runs a CREATE INDEX CONCURRENTLY file outside a transaction and records it as such', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({
      '1_a.sql': 'CREATE TABLE a (id int, email text);\n',
      '2_index.sql': 'CREATE INDEX CONCURRENTLY a_email ON a (email);\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n',
    })
    const events: MigrationEvent[] = []
    const report = (
      await runMigrationsFromDir(dir, runOptions(url, { onProgress: (e) => events.push(e) }))
    )._unsafeUnwrap()
    expect(report.applied.map((m) => [m.name, m.transactional])).toEqual([
      ['1_a.sql', true],
      ['2_index.sql', false],
    ])
    const indexes = await sql<{ indexname: string }>(
      url,
      "SELECT indexname FROM pg_indexes WHERE tablename = 'a' ORDER BY 1",
    )
    expect(indexes.map((r) => r.indexname)).toEqual(['a_email', 'a_id'])
    expect((await trackingRows(url)).map((r) => [r.name, r.transactional])).toEqual([
      ['1_a.sql', true],
      ['2_index.sql', false],
    ])
    expect(await sql(url, 'SELECT * FROM public.ddl_migration_claims')).toEqual([])
    const status = (await migrationStatus(dir, runOptions(url)))._unsafeUnwrap()
    expect(status.entries.map((e) => [e.name, e.state, e.transactional])).toEqual([
      ['1_a.sql', 'applied', true],
      ['2_index.sql', 'applied', false],
    ])
    expect(events.map((e) => e.type)).toEqual(['found', 'start', 'applied', 'start', 'applied'])
  })

  it('reports a failing CONCURRENTLY file without recording it, and releases its claim', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({
      '1_a.sql': 'CREATE TABLE a (id int);\nINSERT INTO a VALUES (1), (1);\n',
      '2_unique.sql': 'CREATE UNIQUE INDEX CONCURRENTLY a_id ON a (id);\n',
    })
    const error = migrationError((await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrapErr())
    expect(error.file).toBe('2_unique.sql')
    expect(error.sqlstate).toBe('23505')
    expect(error.message).toContain('runs outside a transaction')
    expect((await trackingRows(url)).map((r) => r.name)).toEqual(['1_a.sql'])
    expect(await sql(url, 'SELECT * FROM public.ddl_migration_claims')).toEqual([])
  })

  it('takes over the claim of a runner that died while applying a CONCURRENTLY file', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({
      '1_a.sql': 'CREATE TABLE a (id int);\n',
      '2_index.sql': 'CREATE INDEX CONCURRENTLY IF NOT EXISTS a_id ON a (id);\n',
    })
    ;(await runMigration(join(dir, '1_a.sql'), runOptions(url)))._unsafeUnwrap()
    await sql(
      url,
      `CREATE TABLE public.ddl_migration_claims (name text PRIMARY KEY, checksum text NOT NULL,
         claimed_at timestamptz NOT NULL DEFAULT clock_timestamp(), claimed_by text NOT NULL,
         backend_pid integer NOT NULL, backend_start timestamptz);
       INSERT INTO public.ddl_migration_claims VALUES ('2_index.sql', 'x', now(), 'ghost', 999999, now())`,
    )
    const status = (await migrationStatus(dir, runOptions(url)))._unsafeUnwrap()
    expect(status.entries[1]).toMatchObject({ name: '2_index.sql', state: 'claimed', claim: { alive: false } })
    const events: MigrationEvent[] = []
    const report = (
      await runMigrationsFromDir(dir, runOptions(url, { onProgress: (e) => events.push(e) }))
    )._unsafeUnwrap()
    expect(report.applied.map((m) => m.name)).toEqual(['2_index.sql'])
    expect(events.find((e) => e.type === 'waiting')).toMatchObject({ reason: expect.stringContaining('ghost') })
  })
})

describe('the runners lock', () => {
  it('fails with a clear message when another runner holds the lock past the wait', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({ '1_a.sql': 'CREATE TABLE a (id int);\n' })
    const { withClient } = await import('../../../test/support/database.js')
    await withClient(url, async (holder) => {
      await holder.query('BEGIN')
      await holder.query('SELECT pg_advisory_xact_lock(8314038972764679277)')
      const started = Date.now()
      const error = migrationError(
        (await runMigrationsFromDir(dir, runOptions(url, { waitMs: 300 })))._unsafeUnwrapErr(),
      )
      expect(Date.now() - started).toBeLessThan(5000)
      expect(error.problem).toBe('locked')
      expect(error.message).toContain('Another migration runner is applying migrations to this database')
      expect(error.message).toContain('for more than 0.3 s')
      const noWait = migrationError(
        (await runMigrationsFromDir(dir, runOptions(url, { waitMs: 0 })))._unsafeUnwrapErr(),
      )
      expect(noWait.problem).toBe('locked')
      await holder.query('ROLLBACK')
    })
    expect(await tableExists(url, 'a')).toBe(false)
    ;(await runMigrationsFromDir(dir, runOptions(url, { waitMs: 300 })))._unsafeUnwrap()
  })

  it('waits for the lock within the wait and then applies', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({ '1_a.sql': 'CREATE TABLE a (id int);\n' })
    const { withClient } = await import('../../../test/support/database.js')
    await withClient(url, async (holder) => {
      await holder.query('BEGIN')
      await holder.query('SELECT pg_advisory_xact_lock(8314038972764679277)')
      const release = new Promise((r) => setTimeout(r, 500)).then(() => holder.query('COMMIT'))
      const events: MigrationEvent[] = []
      const options = runOptions(url, { waitMs: 10_000, onProgress: (e) => events.push(e) })
      const report = (await runMigrationsFromDir(dir, options))._unsafeUnwrap()
      await release
      expect(report.applied.map((m) => m.name)).toEqual(['1_a.sql'])
      const waiting = events.filter((e) => e.type === 'waiting')
      expect(waiting).toHaveLength(1)
      expect(waiting[0]).toMatchObject({
        reason: expect.stringMatching(
          /^another runner holds the migration lock \(backend pid \d+.*\); waiting up to 10 s$/,
        ),
      })
    })
  })
})

describe('audit', () => {
  it('records an intent before and an outcome after each file, with the file as source', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({
      '1_a.sql': 'CREATE TABLE a (id int);\nINSERT INTO a VALUES (1), (2);\n',
      '2_b.sql': 'CREATE TABLE b (id int);\n',
    })
    const options = runOptions(url)
    ;(await runMigrationsFromDir(dir, options))._unsafeUnwrap()
    const records = auditRecords(options.auditPath)
    expect(records.map((r) => [r.source, r.outcome, r.statement])).toEqual([
      ['1_a.sql', 'intent', 'CREATE TABLE a (id int)'],
      ['1_a.sql', 'intent', 'INSERT INTO a VALUES (1), (2)'],
      ['1_a.sql', 'committed', 'CREATE TABLE a (id int)'],
      ['1_a.sql', 'committed', 'INSERT INTO a VALUES (1), (2)'],
      ['2_b.sql', 'intent', 'CREATE TABLE b (id int)'],
      ['2_b.sql', 'committed', 'CREATE TABLE b (id int)'],
    ])
    expect(records[3]?.rowsAffected).toBe(2)
    expect(new Set(records.slice(0, 4).map((r) => r.runId)).size).toBe(2)
  })

  it('sends no statement of a file whose intent cannot be written, and leaves no transaction open', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({ '1_a.sql': 'CREATE TABLE never_made (id int);\n' })
    // The log's path is a directory: every append fails, after the file's opening round trip was sent.
    const options = runOptions(url)
    mkdirSync(options.auditPath)
    const error = migrationError((await runMigrationsFromDir(dir, options))._unsafeUnwrapErr())
    expect(error.problem).toBe('audit')
    expect(await tableExists(url, 'never_made')).toBe(false)
    expect(await trackingRows(url)).toEqual([])
    const open = await sql<{ n: number }>(
      url,
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
    )
    expect(open[0]?.n).toBe(0)
  })
})

describe('Prisma layout', () => {
  it('applies <timestamp>_<name>/migration.sql folders in order, named by folder, enum blocks included', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({
      'migration_lock.toml': '# Please do not edit this file manually\nprovider = "postgresql"\n',
      '20240101000000_init/migration.sql':
        "-- CreateEnum\nCREATE TYPE \"Role\" AS ENUM ('USER', 'ADMIN', 'GUEST');\n\n-- CreateTable\n" +
        'CREATE TABLE "User" (\n    "id" SERIAL NOT NULL,\n    "role" "Role" NOT NULL DEFAULT \'USER\',\n\n' +
        '    CONSTRAINT "User_pkey" PRIMARY KEY ("id")\n);\n',
      '20240215093000_drop_guest/migration.sql':
        "-- AlterEnum\nBEGIN;\nCREATE TYPE \"Role_new\" AS ENUM ('USER', 'ADMIN');\n" +
        'ALTER TABLE "User" ALTER COLUMN "role" DROP DEFAULT;\n' +
        'ALTER TABLE "User" ALTER COLUMN "role" TYPE "Role_new" USING ("role"::text::"Role_new");\n' +
        'ALTER TYPE "Role" RENAME TO "Role_old";\nALTER TYPE "Role_new" RENAME TO "Role";\nDROP TYPE "Role_old";\n' +
        'ALTER TABLE "User" ALTER COLUMN "role" SET DEFAULT \'USER\';\nCOMMIT;\n',
      '20240301000000_empty/migration.sql': '-- This is an empty migration.',
    })
    const plan = (await planMigrations(dir, runOptions(url)))._unsafeUnwrap()
    expect(plan.layout).toBe('prisma')
    expect(plan.pending.map((p) => [p.name, p.tier, p.allowed])).toEqual([
      ['20240101000000_init', 'safe', true],
      // The type change is cautious; DROP TYPE "Role_old" without CASCADE cannot lose data (Postgres
      // refuses while a column uses it), so the file is cautious, and still needs a flag.
      ['20240215093000_drop_guest', 'cautious', false],
      ['20240301000000_empty', 'safe', true],
    ])
    expect(plan.pending[1]?.strippedLines).toEqual([2, 10])
    expect(plan.wouldRun).toBe(false)
    const report = (await runMigrationsFromDir(dir, runOptions(url, { iKnowWhatImDoing: true })))._unsafeUnwrap()
    expect(report.layout).toBe('prisma')
    expect(report.applied.map((m) => m.name)).toEqual([
      '20240101000000_init',
      '20240215093000_drop_guest',
      '20240301000000_empty',
    ])
    const labels = await sql<{ labels: string[] }>(
      url,
      `SELECT array_agg(enumlabel::text ORDER BY enumsortorder) AS labels FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = 'Role'`,
    )
    expect(labels[0]?.labels).toEqual(['USER', 'ADMIN'])
  })

  it('refuses Prisma migrations written for another database', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({
      'migration_lock.toml': 'provider = "mysql"\n',
      '20240101000000_init/migration.sql': 'CREATE TABLE `User` (id int);\n',
    })
    const error = migrationError((await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrapErr())
    expect(error.problem).toBe('layout')
    expect(error.message).toContain('"mysql"')
  })
})

describe('layouts that are not migrations', () => {
  it('says clearly that an empty directory holds no migrations', async () => {
    const url = await freshDatabase()
    const error = migrationError((await runMigrationsFromDir(migrationDir({}), runOptions(url)))._unsafeUnwrapErr())
    expect(error.problem).toBe('layout')
    expect(error.message).toMatch(/^No migrations found in .* \(it is empty\)\. Expected either \*\.sql files/)
  })

  it('refuses a directory mixing *.sql files and Prisma folders', async () => {
    const url = await freshDatabase()
    const dir = migrationDir({ '1_a.sql': 'SELECT 1;\n', '20240101000000_init/migration.sql': 'SELECT 1;\n' })
    const error = migrationError((await runMigrationsFromDir(dir, runOptions(url)))._unsafeUnwrapErr())
    expect(error.problem).toBe('layout')
    expect(error.message).toContain('mixes two layouts')
  })
})
