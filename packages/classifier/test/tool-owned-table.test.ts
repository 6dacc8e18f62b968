import { classify, DEFAULT_PROTECTED_TABLES, init, type Plan } from '@ddl/classifier'
import { beforeAll, describe, expect, it } from 'vitest'

beforeAll(async () => {
  await init()
})

function plan(sql: string, protectedTables?: readonly string[]): Plan {
  return classify(sql, protectedTables === undefined ? {} : { protectedTables })._unsafeUnwrap()
}

function flagged(sql: string, protectedTables?: readonly string[]): boolean {
  return plan(sql, protectedTables).statements.some((s) =>
    s.verdict.findings.some((f) => f.rule === 'tool-owned-table' && f.tier === 'destructive'),
  )
}

describe('tool-owned-table', () => {
  const writes = [
    "INSERT INTO ddl_migrations (name, checksum, duration_ms, tier, applied_by, transactional) VALUES ('002_drop.sql', repeat('0', 64), 0, 'safe', 'ada', true)",
    'INSERT INTO public.ddl_migrations SELECT * FROM staging',
    'INSERT INTO "public"."ddl_migrations" VALUES (1)',
    'INSERT INTO shop.public.ddl_migrations VALUES (1)',
    "UPDATE ddl_migrations SET applied_by = 'ada' WHERE name = '001.sql'",
    "DELETE FROM public.ddl_migration_claims WHERE name = '003.sql'",
    "MERGE INTO ddl_migrations t USING s ON t.name = s.name WHEN MATCHED THEN UPDATE SET tier = 'safe'",
    'TRUNCATE ddl_migration_claims',
    'TRUNCATE other, public.ddl_migrations',
    'ALTER TABLE ddl_migrations DROP CONSTRAINT ddl_migrations_tier_check',
    'ALTER TABLE ddl_migrations RENAME TO ddl_migrations_old',
    'ALTER TABLE ddl_migrations RENAME COLUMN applied_by TO who',
    'ALTER TABLE ddl_migrations SET SCHEMA archive',
    'DROP TABLE IF EXISTS ddl_migration_claims',
    'COPY ddl_migrations FROM STDIN',
    'CREATE TRIGGER forge BEFORE INSERT ON ddl_migrations FOR EACH ROW EXECUTE FUNCTION f()',
    'CREATE RULE forge AS ON INSERT TO ddl_migrations DO INSTEAD NOTHING',
    'CREATE TABLE ddl_migrations (name text)',
    "WITH forged AS (INSERT INTO ddl_migrations VALUES ('x') RETURNING 1) SELECT * FROM forged",
    "COPY (DELETE FROM ddl_migrations WHERE name = 'x' RETURNING *) TO STDOUT",
    "DO $$ BEGIN DELETE FROM ddl_migrations WHERE name = 'x'; END $$",
    "DO $$ BEGIN EXECUTE 'DELETE FROM ddl_migrations WHERE name = ''x'''; END $$",
    'CREATE TABLE ddl_undo.copy_1 (a int)',
    'DROP TABLE ddl_undo.copy_1',
    'UPDATE ddl_undo.copy_1 SET a = 1 WHERE a = 2',
    'DROP SCHEMA ddl_undo CASCADE',
    'ALTER SCHEMA ddl_undo RENAME TO gone',
    'CREATE SCHEMA ddl_undo',
    'ALTER TABLE orders SET SCHEMA ddl_undo',
  ]
  for (const sql of writes) {
    it(`classifies as destructive: ${sql}`, () => {
      expect(flagged(sql)).toBe(true)
      expect(plan(sql).tier).toBe('destructive')
    })
  }

  it('classifies the call of a function that writes the tracking table as destructive', () => {
    const p = plan(
      "CREATE FUNCTION mark() RETURNS void LANGUAGE sql AS $$ INSERT INTO ddl_migrations VALUES ('x') $$; SELECT mark()",
    )
    expect(p.statements[1]?.verdict.tier).toBe('destructive')
    expect(p.statements[1]?.verdict.findings.map((f) => f.rule)).toContain('call-destructive-function')
  })

  const reads = [
    'SELECT name, applied_at FROM ddl_migrations',
    'COPY ddl_migrations TO STDOUT',
    "INSERT INTO archive.ddl_migrations VALUES ('x')",
    "INSERT INTO ddl_migrations_copy VALUES ('x')",
    'CREATE TABLE ddl_undo_notes (a int)',
    'SELECT * FROM ddl_undo.copy_1',
  ]
  for (const sql of reads) {
    it(`leaves alone: ${sql}`, () => {
      expect(flagged(sql)).toBe(false)
    })
  }

  it('protects the schemas a dropped schema is kept as (ddl_undo_<id>_<n>)', () => {
    expect(flagged('DELETE FROM ddl_undo_u0123456789ab_1.orders')).toBe(true)
    expect(flagged('DROP SCHEMA ddl_undo_u0123456789ab_1 CASCADE')).toBe(true)
    expect(flagged('ALTER SCHEMA ddl_undo_u0123456789ab_1 RENAME TO app')).toBe(true)
    expect(flagged('CREATE FUNCTION ddl_undo_u1.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$')).toBe(true)
    expect(flagged('DELETE FROM ddl_undone.orders')).toBe(false)
  })

  it('takes the protected list from the options', () => {
    expect(flagged("INSERT INTO ops.schema_version VALUES ('1')", ['ops.schema_version'])).toBe(true)
    expect(flagged("INSERT INTO ddl_migrations VALUES ('1')", ['ops.schema_version'])).toBe(false)
    expect(DEFAULT_PROTECTED_TABLES).toEqual([
      'public.ddl_migrations',
      'public.ddl_migration_claims',
      'ddl_undo.*',
      'ddl_undo_u*.*',
    ])
  })

  it('records the lowering, with the policy hash, when policy moves it down', () => {
    // Policy is applied by the caller (the executor splits raise-only from lowering policy); the
    // classifier records every lowering so a lowered verdict always says so.
    const p = classify("INSERT INTO ddl_migrations VALUES ('x')", {
      policy: { rules: { 'tool-owned-table': 'safe' } },
      policyHash: 'abc',
    })._unsafeUnwrap()
    expect(p.statements[0]?.verdict.lowered).toEqual([
      { rule: 'tool-owned-table', from: 'destructive', to: 'safe', policyHash: 'abc' },
    ])
  })

  it('renders its finding', () => {
    const f = plan("DELETE FROM ddl_migrations WHERE name = '001.sql'").statements[0]?.verdict.findings.find(
      (x) => x.rule === 'tool-owned-table',
    )
    expect(f).toMatchInlineSnapshot(`
      {
        "hint": "Let safe-ddl write its own tables (ddl migrate, ddl undo). To repair them on purpose, run the statement with iKnowWhatImDoing and record why.",
        "message": "public.ddl_migrations holds safe-ddl's own state (migration tracking, claims or undo copies); writing, altering or dropping it from gated SQL can mark a migration applied that never ran or lose what undo needs.",
        "rule": "tool-owned-table",
        "severity": "error",
        "tier": "destructive",
      }
    `)
  })
})
