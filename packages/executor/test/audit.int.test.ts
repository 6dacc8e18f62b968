import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type AuditEntry, AuditLog } from '@ddl/audit'
import { unwrap } from '@ddl/executor'
import { ResultAsync } from 'neverthrow'
import { describe, expect, it } from 'vitest'
import { testDatabase } from '../../../test/support/database.js'
import { direct, harness } from './support.js'

const database = testDatabase('audit')

const exists = async (table: string) =>
  (await direct<{ t: string | null }>(database.url, 'SELECT to_regclass($1)::text AS t', [table]))[0]?.t !== null

describe('the audit trail', () => {
  it('writes the intent before anything is sent, and the outcome after COMMIT', async () => {
    const base = harness(database)
    const log = AuditLog.open({ path: base.auditPath, env: {} })
    const append = log.append.bind(log)
    const seen: { outcome: string; count: number; tableExisted: boolean }[] = []
    log.append = (entries) => {
      const list = (Array.isArray(entries) ? entries : [entries]) as AuditEntry[]
      return new ResultAsync(
        (async () => {
          seen.push({ outcome: list[0]?.outcome ?? '', count: list.length, tableExisted: await exists('ordered') })
          return append(entries)
        })(),
      )
    }
    const h = harness(database, { auditLog: log })
    await unwrap(
      h.db.execute(
        'CREATE TABLE ordered (id int);\nINSERT INTO ordered VALUES (1);\nCOMMENT ON TABLE ordered IS $$x$$',
      ),
    )
    expect(seen).toEqual([
      { outcome: 'intent', count: 3, tableExisted: false },
      { outcome: 'committed', count: 3, tableExisted: true },
    ])
  })

  it('blocks execution when the audit log cannot be written: the table is not created', async () => {
    const base = harness(database)
    const directory = join(base.dir, 'a-directory')
    mkdirSync(directory)
    const h = harness(database, { auditPath: directory })
    const error = (await h.db.execute('CREATE TABLE never_created (id int)'))._unsafeUnwrapErr()
    expect(error.kind).toBe('AuditError')
    expect(error.message).toContain('is a directory')
    expect(await exists('never_created')).toBe(false)
    // The opening round trip (BEGIN, limits, baseline) was in flight during the append: rolled back.
    const open = await direct<{ n: number }>(
      database.url,
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
    )
    expect(open[0]?.n).toBe(0)
  })

  it('blocks a rehearsal too when the audit log cannot be written', async () => {
    const base = harness(database)
    const file = join(base.dir, 'file')
    writeFileSync(file, '')
    const h = harness(database, { auditPath: join(file, 'audit.jsonl') })
    expect((await h.db.execute('CREATE TABLE r (id int)', { rehearse: true }))._unsafeUnwrapErr().kind).toBe(
      'AuditError',
    )
  })

  it('links each intent to one outcome by runId', async () => {
    const h = harness(database)
    await unwrap(h.db.execute('CREATE TABLE linked (id int); INSERT INTO linked VALUES (1), (2), (3)'))
    const records = h.records()
    const intents = records.filter((r) => r.outcome === 'intent')
    const outcomes = records.filter((r) => r.outcome === 'committed')
    expect(intents).toHaveLength(2)
    expect(outcomes.map((r) => r.runId)).toEqual(intents.map((r) => r.runId))
    expect(new Set(intents.map((r) => r.runId)).size).toBe(2)
    expect(outcomes[1]?.rowsAffected).toBe(3)
    expect(typeof outcomes[1]?.durationMs).toBe('number')
  })

  it('records the failing statement as failed with its SQLSTATE and the others as rolled back', async () => {
    const h = harness(database)
    await h.db.execute('CREATE TABLE f1 (id int);\nINSERT INTO nowhere VALUES (1);\nCREATE TABLE f2 (id int)')
    const outcomes = h.records().filter((r) => r.outcome !== 'intent')
    expect(outcomes.map((r) => [r.statement, r.outcome, r.sqlstate])).toEqual([
      ['CREATE TABLE f1 (id int)', 'rolled_back', undefined],
      ['INSERT INTO nowhere VALUES (1)', 'failed', '42P01'],
      ['CREATE TABLE f2 (id int)', 'rolled_back', undefined],
    ])
    expect(outcomes[2]?.error).toBe('not sent: an earlier statement failed')
  })

  it('records dry runs, refusals and rehearsals with their flags', async () => {
    const h = harness(database, {}, undefined)
    await h.db.execute('DROP TABLE f1', { dryRun: true })
    await h.db.execute('DROP TABLE f1')
    await unwrap(h.db.execute('CREATE TABLE rehearsed (id int)', { rehearse: true }))
    expect(h.records().map((r) => [r.outcome, r.flags.dryRun, r.flags.rehearse])).toEqual([
      ['dry_run', true, false],
      ['blocked', false, false],
      ['intent', false, true],
      ['rehearsed', false, true],
    ])
    expect(h.records()[1]?.error).toBe('Destructive operation blocked: DROP TABLE f1')
  })

  it('keeps password literals out of the audit log and of results', async () => {
    const h = harness(database)
    const secret = 'hunter2-not-in-logs'
    const result = await unwrap(h.db.execute(`CREATE ROLE audit_role_x LOGIN PASSWORD '${secret}'`, { confirm: true }))
    expect(JSON.stringify(result)).not.toContain(secret)
    const file = readFileSync(h.auditPath, 'utf8')
    expect(file).not.toContain(secret)
    expect(file).toContain("PASSWORD '***'")
    await direct(database.url, 'DROP ROLE audit_role_x')
  })

  it('records the project name and the source', async () => {
    const h = harness(database, { source: 'scripts/seed.ts' })
    await unwrap(h.db.execute('CREATE TABLE sourced (id int)'))
    expect(h.records().map((r) => [r.project, r.source])).toEqual([
      ['default', 'scripts/seed.ts'],
      ['default', 'scripts/seed.ts'],
    ])
  })
})
