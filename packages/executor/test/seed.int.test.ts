/**
 * The seed's success criteria and usage patterns 1 to 6, as runnable examples on a real Postgres.
 * (Pattern 2, migrations, belongs to the migrations engine and is tested there.)
 */
import { SafetyError, unwrap } from '@ddl/executor'
import { beforeAll, describe, expect, it } from 'vitest'
import { testDatabase } from '../../../test/support/database.js'
import { direct, type Harness, harness, tableRows } from './support.js'

const database = testDatabase('seed')
let h: Harness

beforeAll(async () => {
  h = harness(database)
  await direct(database.url, 'CREATE TABLE users (id int PRIMARY KEY, created_at timestamptz DEFAULT now())')
  await direct(database.url, "INSERT INTO users VALUES (1, '2025-12-01'), (2, '2026-01-15'), (3, '2026-02-01')")
})

describe('the seed success criteria', () => {
  it('creates a table without any confirmation', async () => {
    const result = await h.db.execute('CREATE TABLE criteria_a (id int)')
    expect(result.isOk()).toBe(true)
    expect(result._unsafeUnwrap().tier).toBe('safe')
    expect(await h.db.tableExists('criteria_a')).toEqual(expect.objectContaining({ value: true }))
  })

  it('adds a column without any confirmation', async () => {
    await unwrap(h.db.execute('CREATE TABLE criteria_b (id int)'))
    const result = await h.db.execute('ALTER TABLE criteria_b ADD COLUMN phone text')
    expect(result.isOk()).toBe(true)
    const schema = await unwrap(h.db.getSchema('criteria_b'))
    expect(schema.columns.map((c) => c.name)).toEqual(['id', 'phone'])
  })

  it('requires confirm for TRUNCATE and runs it with confirm', async () => {
    await unwrap(h.db.execute('CREATE TABLE criteria_c (id int); INSERT INTO criteria_c VALUES (1), (2)'))
    const refused = await h.db.execute('TRUNCATE criteria_c')
    const error = refused._unsafeUnwrapErr()
    expect(error.kind).toBe('SafetyError')
    expect(error.message).toContain('This operation requires confirm: true')
    expect(await tableRows(database.url, 'criteria_c')).toBe(2)
    expect((await h.db.execute('TRUNCATE criteria_c', { confirm: true })).isOk()).toBe(true)
    expect(await tableRows(database.url, 'criteria_c')).toBe(0)
  })

  it('blocks DROP TABLE without iKnowWhatImDoing, and confirm is not enough', async () => {
    await unwrap(h.db.execute('CREATE TABLE criteria_d (id int)'))
    for (const flags of [{}, { confirm: true }]) {
      const error = (await h.db.execute('DROP TABLE criteria_d', flags))._unsafeUnwrapErr()
      expect(error.kind).toBe('SafetyError')
      expect(error.message.split('\n')[0]).toBe('Destructive operation blocked: DROP TABLE criteria_d')
      expect(error.message).toContain('Use iKnowWhatImDoing: true to override')
    }
    expect((await h.db.tableExists('criteria_d'))._unsafeUnwrap()).toBe(true)
    expect((await h.db.execute('DROP TABLE criteria_d', { iKnowWhatImDoing: true })).isOk()).toBe(true)
    expect((await h.db.tableExists('criteria_d'))._unsafeUnwrap()).toBe(false)
  })

  it('logs every operation to the audit file', async () => {
    const audit = harness(database)
    await audit.db.execute('CREATE TABLE criteria_e (id int)')
    await audit.db.execute('TRUNCATE criteria_e', { confirm: true })
    await audit.db.execute('DROP TABLE criteria_e')
    await audit.db.execute('DROP TABLE criteria_e', { iKnowWhatImDoing: true })
    await audit.db.execute('CREATE TABLE criteria_f (id int)', { dryRun: true })
    const records = audit.records()
    expect(records.map((r) => [r.tier, r.outcome, r.statement])).toEqual([
      ['safe', 'intent', 'CREATE TABLE criteria_e (id int)'],
      ['safe', 'committed', 'CREATE TABLE criteria_e (id int)'],
      ['cautious', 'intent', 'TRUNCATE criteria_e'],
      ['cautious', 'committed', 'TRUNCATE criteria_e'],
      ['destructive', 'blocked', 'DROP TABLE criteria_e'],
      ['destructive', 'intent', 'DROP TABLE criteria_e'],
      ['destructive', 'committed', 'DROP TABLE criteria_e'],
      ['safe', 'dry_run', 'CREATE TABLE criteria_f (id int)'],
    ])
    expect(records[2]?.flags.confirm).toBe(true)
    expect(records[6]?.flags.iKnowWhatImDoing).toBe(true)
    expect(records.every((r) => r.project === 'default')).toBe(true)
  })

  it('shows SQL in dry-run mode without executing it', async () => {
    const result = await unwrap(h.db.execute('CREATE TABLE criteria_g (id int)', { dryRun: true }))
    expect(result.message).toContain('[DRY RUN] Would execute: CREATE TABLE criteria_g (id int)')
    expect((await h.db.tableExists('criteria_g'))._unsafeUnwrap()).toBe(false)
  })

  it('rolls the transaction back on error', async () => {
    const result = await h.db.execute(
      'CREATE TABLE criteria_h (id int PRIMARY KEY);\nINSERT INTO criteria_h VALUES (1), (1)',
    )
    const error = result._unsafeUnwrapErr()
    expect(error.kind).toBe('PostgresError')
    expect(error.message).toContain('The transaction was rolled back')
    expect((await h.db.tableExists('criteria_h'))._unsafeUnwrap()).toBe(false)
  })
})

describe('the seed usage patterns', () => {
  it('pattern 1: creates tables for a new feature when they do not exist', async () => {
    if (!(await unwrap(h.db.tableExists('campaigns')))) {
      await unwrap(
        h.db.execute(`
          CREATE TABLE campaigns (
              id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
              name text NOT NULL,
              status text DEFAULT 'draft',
              created_at timestamptz DEFAULT now()
          )
      `),
      )
      await unwrap(h.db.execute('CREATE INDEX campaigns_status_idx ON campaigns(status)'))
    }
    const schema = await unwrap(h.db.getSchema('campaigns'))
    expect(schema.columns.map((c) => [c.name, c.type, c.nullable, c.default])).toEqual([
      ['id', 'uuid', false, 'gen_random_uuid()'],
      ['name', 'text', false, null],
      ['status', 'text', true, "'draft'::text"],
      ['created_at', 'timestamp with time zone', true, 'now()'],
    ])
    expect(schema.indexes.map((i) => i.name)).toEqual(['campaigns_pkey', 'campaigns_status_idx'])
  })

  it('pattern 3: adds columns to an existing table', async () => {
    await unwrap(h.db.execute('ALTER TABLE users ADD COLUMN phone text'))
    await unwrap(h.db.execute('ALTER TABLE users ADD COLUMN verified boolean DEFAULT false'))
    const schema = await unwrap(h.db.getSchema('users'))
    expect(schema.columns.map((c) => c.name)).toEqual(['id', 'created_at', 'phone', 'verified'])
  })

  it('pattern 4: cleans up with confirm and iKnowWhatImDoing', async () => {
    await unwrap(h.db.execute('CREATE TABLE test_data (id int); INSERT INTO test_data VALUES (1)'))
    await unwrap(h.db.execute('CREATE TABLE old_backup (id int)'))
    await unwrap(h.db.execute('TRUNCATE test_data', { confirm: true }))
    await unwrap(h.db.execute('DROP TABLE old_backup', { iKnowWhatImDoing: true }))
    expect(await tableRows(database.url, 'test_data')).toBe(0)
    expect(await unwrap(h.db.tableExists('old_backup'))).toBe(false)
  })

  it('pattern 5: inspects a table and counts rows with a read-only query', async () => {
    const schema = await unwrap(h.db.getSchema('users'))
    const lines: string[] = []
    for (const col of schema) lines.push(`${col.name}: ${col.type}`)
    expect(lines.slice(0, 2)).toEqual(['id: integer', 'created_at: timestamp with time zone'])
    const results = await unwrap(h.db.query("SELECT count(*)::int AS n FROM users WHERE created_at > '2026-01-01'"))
    expect(results.rows).toEqual([{ n: 2 }])
  })

  it('pattern 6: a dry run prints the plan and makes no changes', async () => {
    const result = await unwrap(h.db.execute('CREATE TABLE test (id int)', { dryRun: true }))
    expect(result.message).toBe(
      ['[DRY RUN] Would execute: CREATE TABLE test (id int)', 'Classification: SAFE', 'No changes made'].join('\n'),
    )
    expect(result.tier).toBe('safe')
    expect(result.wouldRun).toBe(true)
    expect(await unwrap(h.db.tableExists('test'))).toBe(false)
  })

  it('explicit transactions: all three statements succeed together', async () => {
    await unwrap(
      h.db.transaction(async (tx) => {
        await unwrap(tx.execute('CREATE TABLE orders (id uuid PRIMARY KEY)'))
        await unwrap(tx.execute('CREATE TABLE order_items (id uuid, order_id uuid REFERENCES orders)'))
        await unwrap(tx.execute('CREATE INDEX order_items_order_idx ON order_items(order_id)'))
      }),
    )
    expect(await unwrap(h.db.tableExists('order_items'))).toBe(true)
  })

  it('the example error flow: DROP TABLE users throws SafetyError through unwrap', async () => {
    let caught: unknown
    try {
      await unwrap(h.db.execute('DROP TABLE users'))
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(SafetyError)
    const lines = (caught as SafetyError).message.split('\n')
    expect(lines[0]).toBe('Destructive operation blocked: DROP TABLE users')
    expect(lines).toContain('Use iKnowWhatImDoing: true to override')
    expect(await tableRows(database.url, 'users')).toBe(3)
  })
})
