/**
 * Runs every example, in order, against this file's own database on the suite's Postgres, so the
 * examples cannot rot. They build on each other as the design's patterns do: the migrations create
 * `users`, pattern 3 adds its columns, and so on.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AuditRecord } from '@ddl/audit'
import { PostgresAPI, unwrap } from '@ddl/executor'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testDatabase } from '../test/support/database.js'
import { createCampaigns } from './01-create-tables.js'
import { runMigrations } from './02-run-migrations.js'
import { addColumns } from './03-add-columns.js'
import { cleanUp } from './04-clean-up.js'
import { inspectUsers } from './05-inspect.js'
import { dryRun } from './06-dry-run.js'
import { createOrders } from './07-transaction.js'
import { rehearseChange } from './08-rehearse.js'

const database = testDatabase('examples')
const dir = mkdtempSync(join(tmpdir(), 'ddl-examples-'))
const auditPath = join(dir, 'audit.jsonl')
let db: PostgresAPI

beforeAll(() => {
  db = new PostgresAPI(undefined, { url: database.url, cwd: dir, env: {}, auditPath })
})

afterAll(async () => {
  await db.close()
  rmSync(dir, { recursive: true, force: true })
})

function audit(): AuditRecord[] {
  return readFileSync(auditPath, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as AuditRecord)
}

async function count(table: string): Promise<number> {
  const result = await unwrap(db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))
  return result.rows[0]?.n ?? -1
}

describe('the examples, in order', () => {
  it('01 creates campaigns and its index once', async () => {
    expect(await createCampaigns(db)).toBe(true)
    expect(await createCampaigns(db)).toBe(false)
    const schema = await unwrap(db.getSchema('campaigns'))
    expect(schema.indexes.map((i) => i.name)).toEqual(['campaigns_pkey', 'campaigns_status_idx'])
  })

  it('02 applies one migration file, then the rest of the folder, each once', async () => {
    const [first, rest] = await runMigrations(db)
    expect(first.applied.map((m) => m.name)).toEqual(['001_add_users_table.sql'])
    expect(rest.applied.map((m) => m.name)).toEqual(['002_seed_users.sql'])
    expect(rest.alreadyApplied).toEqual(['001_add_users_table.sql'])
    expect(await count('users')).toBe(3)
  })

  it('03 adds two columns without any flag', async () => {
    await addColumns(db)
    const schema = await unwrap(db.getSchema('users'))
    expect([...schema].map((c) => c.name)).toEqual(['id', 'email', 'created_at', 'phone', 'verified'])
  })

  it('04 is refused without the flags, then runs with them', async () => {
    await unwrap(
      db.execute(
        "CREATE TABLE test_data (id int, note text); INSERT INTO test_data SELECT g, 'x' FROM generate_series(1, 10) g; CREATE TABLE old_backup (id int)",
      ),
    )
    expect(await cleanUp(db)).toEqual([
      'Cautious operation blocked: TRUNCATE test_data',
      'Destructive operation blocked: DROP TABLE old_backup',
    ])
    expect(await count('test_data')).toBe(0)
    expect(await unwrap(db.tableExists('old_backup'))).toBe(false)
  })

  it('05 prints the columns and a count', async () => {
    const lines: string[] = []
    await inspectUsers(db, (line) => lines.push(line))
    expect(lines).toEqual([
      'id: bigint',
      'email: text',
      'created_at: timestamp with time zone',
      'phone: text',
      'verified: boolean',
      'users since 2026: 2',
    ])
  })

  it('06 prints the dry runs and changes nothing', async () => {
    const lines: string[] = []
    await dryRun(db, (line) => lines.push(line))
    expect(lines).toEqual([
      '[DRY RUN] Would execute: CREATE TABLE test (id int)\nClassification: SAFE\nNo changes made',
      'destructive: requires iKnowWhatImDoing, would run: false',
    ])
    expect(await unwrap(db.tableExists('test'))).toBe(false)
    expect(await unwrap(db.tableExists('users'))).toBe(true)
  })

  it('07 creates the order tables together', async () => {
    await createOrders(db)
    expect(await unwrap(db.tableExists('orders'))).toBe(true)
    expect(await unwrap(db.tableExists('order_items'))).toBe(true)
  })

  it('08 reports rows, locks and rewrites, and keeps nothing', async () => {
    const lines: string[] = []
    const rehearsal = await rehearseChange(db, (line) => lines.push(line))
    expect(rehearsal.rolledBack).toBe(true)
    expect(lines.slice(0, 3)).toEqual([
      'line 1: DELETE, 1 rows',
      '  locks public.users RowExclusiveLock, public.users_email_key RowExclusiveLock, public.users_pkey RowExclusiveLock',
      'line 2: ALTER',
    ])
    expect(lines).toContain('  rewrites public.users, public.users_email_key, public.users_pkey')
    expect(lines.at(-1)).toBe('the real run needs: confirm')
    expect(await count('users')).toBe(3)
  })

  it('leaves every call in the audit log', () => {
    const outcomes = audit().map((r) => r.outcome)
    for (const outcome of ['committed', 'blocked', 'dry_run', 'rehearsed'] as const) {
      expect(outcomes).toContain(outcome)
    }
  })
})
