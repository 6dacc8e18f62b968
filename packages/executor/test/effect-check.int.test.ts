import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AuditLog } from '@ddl/audit'
import {
  type MigrationRunError,
  PostgresAPI,
  policyApprovalEntry,
  type SafetyError,
  unwrap,
} from '@ddl/executor/internal'
import { beforeAll, describe, expect, it } from 'vitest'
import { testDatabase } from '../../../test/support/database.js'
import { direct, type Harness, harness, tableRows } from './support.js'

const database = testDatabase('effects')
let h: Harness

function safetyError(result: { _unsafeUnwrapErr(): unknown }): SafetyError {
  const error = result._unsafeUnwrapErr() as SafetyError
  expect(error.kind).toBe('SafetyError')
  return error
}

beforeAll(async () => {
  h = harness(database)
  await direct(
    database.url,
    `CREATE TABLE audit_trail (id int PRIMARY KEY, note text);
     INSERT INTO audit_trail SELECT g, 'kept' FROM generate_series(1, 20) g;
     CREATE TABLE events (id int PRIMARY KEY, name text);
     CREATE FUNCTION purge_audit() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN DELETE FROM audit_trail WHERE id <= 5; RETURN NEW; END $$;
     CREATE TRIGGER events_purge AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION purge_audit();

     CREATE TABLE orders (id int PRIMARY KEY, total int);
     INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 10) g;
     CREATE TABLE order_requests (id int);
     CREATE RULE order_requests_delete AS ON INSERT TO order_requests DO INSTEAD DELETE FROM orders WHERE id = NEW.id;

     CREATE TABLE sessions (id int PRIMARY KEY);
     INSERT INTO sessions SELECT generate_series(1, 8);
     CREATE FUNCTION expire_sessions() RETURNS int LANGUAGE sql AS $$ DELETE FROM sessions WHERE id > 4 RETURNING 1 $$;
     CREATE VIEW session_report AS SELECT expire_sessions() AS n;

     CREATE TABLE accounts (id int PRIMARY KEY, balance int);
     INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 6) g;
     CREATE TABLE accounts_src (id int);
     INSERT INTO accounts_src SELECT generate_series(1, 6);

     CREATE TABLE ledger (id int PRIMARY KEY);
     INSERT INTO ledger SELECT generate_series(1, 12);
     CREATE FUNCTION wipe_ledger() RETURNS void LANGUAGE plpgsql AS $$ BEGIN TRUNCATE ledger; END $$;

     CREATE TABLE invoices (id serial PRIMARY KEY, amount int);
     INSERT INTO invoices (amount) SELECT generate_series(1, 5);

     CREATE TABLE limited (id int PRIMARY KEY);
     INSERT INTO limited SELECT generate_series(1, 10);`,
  )
})

describe('the effect check (what the server measured, before COMMIT)', () => {
  it('refuses a safe INSERT whose existing trigger deletes elsewhere, and keeps the rows', async () => {
    const result = await h.db.execute('INSERT INTO events VALUES (1, $$signup$$)')
    const error = safetyError(result)
    expect(error.reason).toBe('effect-exceeds-tier')
    expect(error.message).toContain('delete: 5 rows deleted from public.audit_trail')
    expect(error.message).toContain('trigger events_purge on public.events (runs public.purge_audit())')
    expect(error.message).toContain('confirm: true')
    expect(error.effects.map((e) => e.effect)).toEqual(['delete'])
    expect(await tableRows(database.url, 'audit_trail')).toBe(20)
    expect(await tableRows(database.url, 'events')).toBe(0)
  })

  it('lets the same INSERT run with confirm, and reports what it measured', async () => {
    const result = await unwrap(h.db.execute('INSERT INTO events VALUES (2, $$signup$$)', { confirm: true }))
    expect(result.mode).toBe('executed')
    if (result.mode !== 'executed') return
    expect(result.effects?.tables).toContainEqual(
      expect.objectContaining({ table: 'public.audit_trail', deleted: 5, emptied: false }),
    )
    expect(await tableRows(database.url, 'audit_trail')).toBe(15)
    await direct(database.url, `INSERT INTO audit_trail SELECT g, 'kept' FROM generate_series(1, 5) g`)
  })

  it('refuses an INSERT that an existing rule turns into a DELETE', async () => {
    const error = safetyError(await h.db.execute('INSERT INTO order_requests VALUES (3)'))
    expect(error.reason).toBe('effect-exceeds-tier')
    expect(error.message).toContain('delete: 1 rows deleted from public.orders')
    expect(error.message).toContain('rule order_requests_delete on public.order_requests (DO INSTEAD)')
    expect(await tableRows(database.url, 'orders')).toBe(10)
  })

  it('refuses a safe SELECT of a view over an existing function that deletes', async () => {
    const error = safetyError(await h.db.execute('SELECT * FROM session_report'))
    expect(error.reason).toBe('effect-exceeds-tier')
    expect(error.effects).toContainEqual(expect.objectContaining({ effect: 'delete', table: 'public.sessions' }))
    expect(await tableRows(database.url, 'sessions')).toBe(8)
  })

  it('refuses a cautious DELETE whose WHERE matches every row, unless iKnowWhatImDoing', async () => {
    const error = safetyError(await h.db.execute('DELETE FROM accounts WHERE balance >= 0', { confirm: true }))
    expect(error.reason).toBe('effect-exceeds-tier')
    expect(error.requires).toBe('iKnowWhatImDoing')
    expect(error.message).toContain('empty: public.accounts was emptied: 6 rows deleted')
    expect(error.message).toContain('iKnowWhatImDoing: true')
    expect(await tableRows(database.url, 'accounts')).toBe(6)
    await unwrap(h.db.execute('DELETE FROM accounts WHERE balance >= 0', { iKnowWhatImDoing: true }))
    expect(await tableRows(database.url, 'accounts')).toBe(0)
    await direct(database.url, 'INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 6) g')
  })

  it('lets a cautious DELETE that leaves rows run with confirm', async () => {
    await unwrap(h.db.execute('DELETE FROM accounts WHERE id = 6', { confirm: true }))
    expect(await tableRows(database.url, 'accounts')).toBe(5)
    await direct(database.url, 'INSERT INTO accounts VALUES (6, 100)')
  })

  it('refuses a cautious UPDATE whose WHERE matches every row', async () => {
    const error = safetyError(await h.db.execute('UPDATE accounts SET balance = 0 WHERE id > 0', { confirm: true }))
    expect(error.effects).toContainEqual(
      expect.objectContaining({ effect: 'update-every-row', table: 'public.accounts' }),
    )
    const rows = await direct<{ n: string }>(
      database.url,
      'SELECT count(*)::text AS n FROM accounts WHERE balance = 100',
    )
    expect(rows[0]?.n).toBe('6')
  })

  it('refuses a cautious MERGE whose join matches every row', async () => {
    const error = safetyError(
      await h.db.execute('MERGE INTO accounts a USING accounts_src s ON a.id = s.id WHEN MATCHED THEN DELETE', {
        confirm: true,
      }),
    )
    expect(error.effects).toContainEqual(expect.objectContaining({ effect: 'empty', table: 'public.accounts' }))
    expect(await tableRows(database.url, 'accounts')).toBe(6)
  })

  it('refuses TRUNCATE through an existing function under confirm, and lets a named TRUNCATE run with it', async () => {
    const error = safetyError(await h.db.execute('SELECT wipe_ledger()', { confirm: true }))
    expect(error.message).toContain('empty: public.ledger was emptied (truncated')
    expect(error.requires).toBe('iKnowWhatImDoing')
    expect(await tableRows(database.url, 'ledger')).toBe(12)
  })

  it('refuses unlinking large objects through an existing function', async () => {
    const made = await direct<{ o: string }>(database.url, `SELECT lo_from_bytea(0, 'scan 1')::text AS o`)
    await direct(
      database.url,
      `CREATE FUNCTION tidy_scans() RETURNS void LANGUAGE plpgsql AS $$
         BEGIN PERFORM lo_unlink(oid) FROM pg_largeobject_metadata; END $$`,
    )
    const error = safetyError(await h.db.execute('SELECT tidy_scans()', { confirm: true }))
    expect(error.effects).toContainEqual(expect.objectContaining({ effect: 'unlink-large-objects' }))
    expect(error.message).toContain('1 large objects unlinked')
    const left = await direct<{ o: string }>(database.url, 'SELECT oid::text AS o FROM pg_largeobject_metadata')
    expect(left.map((r) => r.o)).toEqual(made.map((r) => r.o))
  })

  it('refuses a run that deletes one row more than maxRows, and runs one at the limit', async () => {
    const error = safetyError(await h.db.execute('DELETE FROM limited WHERE id <= 4', { confirm: true, maxRows: 3 }))
    expect(error.reason).toBe('effect-exceeds-max-rows')
    expect(error.message).toContain('4 rows deleted or updated, the limit is 3')
    expect(error.effects).toContainEqual(expect.objectContaining({ effect: 'delete', table: 'public.limited' }))
    expect(await tableRows(database.url, 'limited')).toBe(10)
    await unwrap(h.db.execute('DELETE FROM limited WHERE id <= 3', { confirm: true, maxRows: 3 }))
    expect(await tableRows(database.url, 'limited')).toBe(7)
  })

  it('lets effects a policy allows on a named table through, and only there', async () => {
    // allowEffects lowers what the check allows: it applies once a person approved this policy.
    const policy = { allowEffects: [{ table: 'public.audit_trail', effects: ['delete'] }] } as never
    const allowing = harness(database, { policy })
    await unwrap(AuditLog.open({ path: allowing.auditPath }).append(policyApprovalEntry('default', policy)))
    await unwrap(allowing.db.execute('INSERT INTO events VALUES (30, $$allowed$$)'))
    expect(await tableRows(database.url, 'audit_trail')).toBe(15)
    await direct(database.url, `INSERT INTO audit_trail SELECT g, 'kept' FROM generate_series(1, 5) g`)
    const error = safetyError(await allowing.db.execute('INSERT INTO order_requests VALUES (4)'))
    expect(error.effects).toContainEqual(expect.objectContaining({ effect: 'delete', table: 'public.orders' }))
    expect(await tableRows(database.url, 'orders')).toBe(10)
  })

  it('refuses lifting a guard in a safe script', async () => {
    // `SET lock_timeout = 0` is cautious to the classifier now; an existing trigger that lifts the
    // guard is what only the server can see.
    await direct(
      database.url,
      `CREATE TABLE IF NOT EXISTS guard_lifter (id int);
       CREATE OR REPLACE FUNCTION lift_guard() RETURNS trigger LANGUAGE plpgsql AS
         $$ BEGIN PERFORM set_config('lock_timeout', '0', true); RETURN NEW; END $$;
       DROP TRIGGER IF EXISTS lift ON guard_lifter;
       CREATE TRIGGER lift BEFORE INSERT ON guard_lifter FOR EACH ROW EXECUTE FUNCTION lift_guard();`,
    )
    const error = safetyError(await h.db.execute('INSERT INTO guard_lifter VALUES (1); CREATE TABLE guarded (id int)'))
    expect(error.effects).toContainEqual(expect.objectContaining({ effect: 'lift-guard', table: 'lock_timeout' }))
    expect(await unwrap(h.db.tableExists('guarded'))).toBe(false)
  })

  it('holds a run to the rehearsal it passes: more rows than rehearsed roll back, showing both', async () => {
    const rehearsal = await unwrap(h.db.execute('DELETE FROM orders WHERE id = 1', { rehearse: true }))
    if (rehearsal.mode !== 'rehearsal') throw new Error('expected a rehearsal')
    expect(rehearsal.effects.tables).toContainEqual(expect.objectContaining({ table: 'public.orders', deleted: 1 }))
    // After the rehearsal, a cascade appears: the same DELETE now empties another table.
    await direct(
      database.url,
      `CREATE TABLE order_lines (id int, order_id int REFERENCES orders ON DELETE CASCADE);
       INSERT INTO order_lines SELECT g, 1 FROM generate_series(1, 30) g`,
    )
    const error = safetyError(
      await h.db.execute('DELETE FROM orders WHERE id = 1', {
        iKnowWhatImDoing: true,
        expectedEffects: rehearsal.effects,
      }),
    )
    expect(error.reason).toBe('effect-exceeds-rehearsal')
    expect(error.message).toContain('run deleted 30 rows, rehearsal 0')
    expect(await tableRows(database.url, 'order_lines')).toBe(30)
    expect(await tableRows(database.url, 'orders')).toBe(10)
    // A new rehearsal counts the rows the cascade removes, per table.
    const again = await unwrap(h.db.execute('DELETE FROM orders WHERE id = 1', { rehearse: true }))
    if (again.mode !== 'rehearsal') throw new Error('expected a rehearsal')
    expect(again.effects.tables).toContainEqual(expect.objectContaining({ table: 'public.order_lines', deleted: 30 }))
    expect(again.message).toContain('public.order_lines: emptied, 30 deleted')
  })
})

describe('the effect check in migrations', () => {
  it('rolls back a safe migration file whose INSERT fires a deleting trigger, and does not record it', async () => {
    const dir = join(h.dir, 'migrations')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, '1_tables.sql'), 'CREATE TABLE migrated_ok (id int);\n')
    writeFileSync(join(dir, '2_seed.sql'), "INSERT INTO events VALUES (40, 'seed');\n")
    const result = await h.db.runMigrationsFromDir(dir)
    const error = result._unsafeUnwrapErr() as MigrationRunError
    expect(error.kind).toBe('MigrationError')
    expect(error.problem).toBe('effect')
    expect(error.message).toContain('Migration 2_seed.sql was rolled back by the effect check')
    expect(error.message).toContain('delete: 5 rows deleted from public.audit_trail')
    expect((error.cause as SafetyError).reason).toBe('effect-exceeds-tier')
    expect(await tableRows(database.url, 'audit_trail')).toBe(20)
    const applied = await direct<{ name: string }>(database.url, 'SELECT name FROM public.ddl_migrations ORDER BY name')
    expect(applied.map((r) => r.name)).toEqual(['1_tables.sql'])
  })
})

describe('rehearsal tells the truth', () => {
  it('reports a sequence a serial default advanced, and does not say nothing was changed', async () => {
    const result = await unwrap(h.db.execute('INSERT INTO invoices (amount) VALUES (9)', { rehearse: true }))
    if (result.mode !== 'rehearsal') throw new Error('expected a rehearsal')
    expect(result.effects.sequences).toEqual([{ sequence: 'public.invoices_id_seq', from: '5', to: '6' }])
    expect(result.notUndone[0]).toContain('sequence public.invoices_id_seq advanced from 5 to 6')
    expect(result.message).not.toContain('nothing was changed')
    expect(await tableRows(database.url, 'invoices')).toBe(5)
  })

  it('reports measured effects the text does not show, and says they disagree', async () => {
    const result = await unwrap(h.db.execute('INSERT INTO events VALUES (9, $$x$$)', { rehearse: true }))
    if (result.mode !== 'rehearsal') throw new Error('expected a rehearsal')
    expect(result.tier).toBe('safe')
    expect(result.effectTier).toBe('cautious')
    expect(result.message).toContain('public.audit_trail: 5 deleted')
    expect(result.message).toContain('disagree with the classification')
  })

  it('says nothing was changed when that holds', async () => {
    const result = await unwrap(h.db.execute('CREATE TABLE rehearsed_only (id int)', { rehearse: true }))
    if (result.mode !== 'rehearsal') throw new Error('expected a rehearsal')
    expect(result.notUndone).toEqual([])
    expect(result.message).toContain('nothing was changed')
  })
})

describe('transaction() and session hygiene', () => {
  it('checks the whole transaction() callback against the highest flags it used', async () => {
    const result = await h.db.transaction(async (tx) => {
      await unwrap(tx.execute('CREATE TABLE tx_effects (id int)'))
      await unwrap(tx.execute('INSERT INTO events VALUES (20, $$x$$)'))
    })
    const error = result._unsafeUnwrapErr() as SafetyError
    expect(error.kind).toBe('SafetyError')
    expect(error.reason).toBe('effect-exceeds-tier')
    expect(error.message).toContain('rows deleted from public.audit_trail')
    expect(await unwrap(h.db.tableExists('tx_effects'))).toBe(false)
    expect(await tableRows(database.url, 'audit_trail')).toBe(20)
  })

  it('releases a session-level advisory lock taken through query()', async () => {
    const api = new PostgresAPI(undefined, { url: database.url, cwd: h.dir, env: {}, auditPath: h.auditPath })
    try {
      await unwrap(api.query('SELECT pg_advisory_lock(424242)'))
      const held = await direct<{ n: string }>(
        database.url,
        `SELECT count(*)::text AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 424242`,
      )
      expect(held[0]?.n).toBe('0')
    } finally {
      await api.close()
    }
  })
})

describe('the check and COMMIT in one round trip', () => {
  beforeAll(async () => {
    await direct(
      database.url,
      `CREATE TABLE fast_kept (id int PRIMARY KEY);
       INSERT INTO fast_kept SELECT generate_series(1, 4);
       CREATE TABLE fast_log (id int PRIMARY KEY);
       INSERT INTO fast_log SELECT generate_series(1, 10);
       CREATE TABLE fast_events (id int PRIMARY KEY);
       CREATE FUNCTION fast_purge() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN DELETE FROM fast_log WHERE id <= 3; RETURN NEW; END $$;
       CREATE TRIGGER fast_events_purge AFTER INSERT ON fast_events FOR EACH ROW EXECUTE FUNCTION fast_purge();
       CREATE TABLE parents (id int PRIMARY KEY);
       CREATE TABLE children (id int, parent_id int REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)`,
    )
  })

  it('commits a run with nothing to judge in the check round trip, and still reports what it measured', async () => {
    const result = await unwrap(h.db.execute('INSERT INTO fast_kept VALUES (5)'))
    expect(result.mode).toBe('executed')
    if (result.mode !== 'executed') return
    expect(result.effects?.tables).toContainEqual(
      expect.objectContaining({ table: 'public.fast_kept', inserted: 1, deleted: 0, updated: 0 }),
    )
    expect(await tableRows(database.url, 'fast_kept')).toBe(5)
  })

  it('rolls back when the check fails, though its COMMIT was sent in the same message', async () => {
    // A trigger's delete is something to judge: the server stops before COMMIT, the client judges, and rolls back.
    const error = safetyError(await h.db.execute('INSERT INTO fast_events VALUES (1)'))
    expect(error.reason).toBe('effect-exceeds-tier')
    expect(error.message).toContain('3 rows deleted from public.fast_log')
    expect(await tableRows(database.url, 'fast_events')).toBe(0)
    expect(await tableRows(database.url, 'fast_log')).toBe(10)
    // The same connection serves the next run.
    await unwrap(h.db.execute('INSERT INTO fast_kept VALUES (6)'))
    expect(await tableRows(database.url, 'fast_kept')).toBe(6)
  })

  it('reports a deferred constraint that fails at COMMIT as a COMMIT error, and commits nothing', async () => {
    const error = (await h.db.execute('INSERT INTO children VALUES (1, 42)'))._unsafeUnwrapErr()
    expect(error).toMatchObject({ kind: 'PostgresError', code: '23503', phase: 'commit' })
    expect(await tableRows(database.url, 'children')).toBe(0)
    const records = h.records().filter((r) => r.statement === 'INSERT INTO children VALUES (1, 42)')
    expect(records.map((r) => [r.outcome, r.sqlstate])).toEqual([
      ['intent', undefined],
      ['failed', '23503'],
    ])
    await unwrap(h.db.execute('INSERT INTO parents VALUES (42)'))
    await unwrap(h.db.execute('INSERT INTO children VALUES (1, 42)'))
    expect(await tableRows(database.url, 'children')).toBe(1)
  })
})
