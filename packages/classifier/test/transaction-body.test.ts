import { bodyTransactionFacts, classify, init } from '@ddl/classifier'
import { beforeAll, describe, expect, it } from 'vitest'

beforeAll(async () => {
  await init()
})

function first(sql: string) {
  const statement = classify(sql)._unsafeUnwrap().statements[0]
  if (statement === undefined) throw new Error('no statement')
  const fields = (statement.ast as unknown as Record<string, Record<string, unknown>>)[statement.kind] ?? {}
  return { verdict: statement.verdict, facts: bodyTransactionFacts(statement.kind, fields) }
}

describe('transaction facts of PL/pgSQL bodies', () => {
  it('a DO block that commits or rolls back is not transactional', () => {
    expect(first('DO $$ BEGIN INSERT INTO t VALUES (1); COMMIT; END $$').verdict.transactional).toBe(false)
    expect(first('DO $$ BEGIN IF true THEN ROLLBACK; END IF; END $$').verdict.transactional).toBe(false)
    expect(first('DO LANGUAGE plpgsql $$ BEGIN PERFORM 1; COMMIT; END $$').verdict.rollbackSafe).toBe(false)
  })

  it('a DO block without COMMIT or ROLLBACK stays transactional', () => {
    expect(first('DO $$ BEGIN PERFORM 1; END $$').verdict.transactional).toBe(true)
    // A COMMIT in a string or a comment is not one.
    expect(first("DO $$ BEGIN RAISE NOTICE 'COMMIT'; -- COMMIT;\nEND $$").verdict.transactional).toBe(true)
  })

  it('a DO block beside other statements that commits is reported as not runnable in a transaction', () => {
    const plan = classify('CREATE TABLE t (id int);\nDO $$ BEGIN COMMIT; END $$;')._unsafeUnwrap()
    const rules = plan.statements[1]?.verdict.findings.map((f) => f.rule)
    expect(rules).toContain('concurrently-in-transaction')
  })

  it('names statements Postgres refuses in any function: CREATE INDEX CONCURRENTLY, VACUUM, EXECUTE of COMMIT', () => {
    expect(first("DO $$ BEGIN EXECUTE 'CREATE INDEX CONCURRENTLY i ON t (a)'; END $$").facts).toEqual({
      commits: false,
      refusedInBody: 'CREATE INDEX CONCURRENTLY i',
    })
    expect(first('DO $$ BEGIN VACUUM t; END $$').facts.refusedInBody).toBe('VACUUM t')
    expect(first("DO $$ BEGIN EXECUTE 'COMMIT'; END $$").facts.refusedInBody).toBe('COMMIT')
    expect(first("DO $$ BEGIN EXECUTE 'CREATE INDEX i ON t (a)'; END $$").facts.refusedInBody).toBeUndefined()
  })

  it('reads procedure bodies; other languages and unreadable bodies give no facts', () => {
    expect(
      first('CREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN INSERT INTO t VALUES (1); COMMIT; END $$').facts,
    ).toEqual({ commits: true, refusedInBody: undefined })
    expect(first('CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$').facts.commits).toBe(false)
    expect(first('DO $$ BEGIN this is not plpgsql; END $$').facts).toEqual({ commits: false, refusedInBody: undefined })
  })
})
