import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { allRules, classify, init, type Plan, type Policy, SAFE_KINDS, type Verdict } from '@ddl/classifier'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { caseOptions, cases } from './rule-cases.js'

beforeAll(async () => {
  await init()
})

function plan(sql: string, options: { pgVersion?: number; policy?: Policy } = {}): Plan {
  return classify(sql, options)._unsafeUnwrap()
}

function rulesOf(sql: string, options: { pgVersion?: number } = {}): string[] {
  return plan(sql, options).statements.flatMap((s) => s.verdict.findings.map((f) => f.rule))
}

const hazardIds = new Set(allRules.filter((r) => r.hazard === true).map((r) => r.id))

function hazardsOf(sql: string): string[] {
  return rulesOf(sql).filter((id) => hazardIds.has(id))
}

function verdict(sql: string, options: { pgVersion?: number } = {}): Verdict {
  const statements = plan(sql, options).statements
  const last = statements.at(-1)
  if (last === undefined) throw new Error(`no statement in ${sql}`)
  return last.verdict
}

const hazards = allRules.filter((r) => r.hazard === true)
const hazardsOff: Policy = { rules: Object.fromEntries(hazards.map((r) => [r.id, 'off' as const])) }

describe('hazard rules', () => {
  it('are hazards with a severity, and there are at least 25 of them', () => {
    expect(hazards.length).toBeGreaterThanOrEqual(25)
    for (const rule of hazards) {
      expect(rule.tier, rule.id).toBe('safe')
      expect(rule.severity, rule.id).toBeDefined()
    }
  })

  it('read no statement kind that a tier rule or the safe defaults do not already map', () => {
    const mapped = new Set([...SAFE_KINDS, ...allRules.filter((r) => r.hazard !== true).flatMap((r) => r.kinds)])
    const onlyHazards = hazards.flatMap((r) => r.kinds.filter((k) => k.endsWith('Stmt') && !mapped.has(k)))
    expect(onlyHazards).toEqual([])
  })

  it('never change the tier of a script: the same script with every hazard off has the same tier', () => {
    const pool = Object.values(cases).flatMap((c) => [c.fires, c.nearMiss].filter((s) => s !== ''))
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pool), { minLength: 1, maxLength: 6 }), (pieces) => {
        const sql = pieces.join(';\n')
        const on = plan(sql)
        const off = plan(sql, { policy: hazardsOff })
        expect(on.tier).toBe(off.tier)
        expect(on.statements.map((s) => s.verdict.tier)).toEqual(off.statements.map((s) => s.verdict.tier))
      }),
      { numRuns: 300 },
    )
  })

  it('give their findings tier safe, whatever their severity', () => {
    for (const id of hazards.map((r) => r.id)) {
      const sql = cases[id]?.fires ?? ''
      const findings = classify(sql, caseOptions(id))
        ._unsafeUnwrap()
        .statements.flatMap((s) => s.verdict.findings.filter((f) => f.rule === id))
      expect(findings.length, id).toBeGreaterThan(0)
      for (const f of findings) expect(f.tier, id).toBe('safe')
    }
  })

  it('are silenced by policy, and raise the tier only when policy says so', () => {
    const sql = 'CREATE INDEX users_email_idx ON users (email)'
    expect(plan(sql).tier).toBe('safe')
    expect(plan(sql, { policy: { hazardsRaiseTier: 'error' } }).tier).toBe('cautious')
    expect(rulesOf(sql)).toContain('add-index-without-concurrently')
    const off = plan(sql, { policy: { rules: { 'add-index-without-concurrently': 'off' } } })
    expect(off.statements[0]?.verdict.findings.map((f) => f.rule)).not.toContain('add-index-without-concurrently')
  })
})

describe('tables created earlier in the script', () => {
  it('raise no lock hazard: they are empty', () => {
    const sql = [
      'CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint, total numeric(10,2), note text)',
      'CREATE INDEX invoices_customer_idx ON invoices (customer_id)',
      'ALTER TABLE invoices ADD CONSTRAINT invoices_total_check CHECK (total >= 0)',
      'ALTER TABLE invoices ALTER COLUMN note SET NOT NULL',
      'ALTER TABLE invoices ALTER COLUMN total TYPE bigint',
      'ALTER TABLE invoices ADD COLUMN token uuid DEFAULT gen_random_uuid()',
      'ALTER TABLE invoices RENAME COLUMN note TO memo',
      'ALTER TABLE invoices RENAME TO bills',
      'CREATE INDEX bills_memo_idx ON bills (memo)',
    ].join(';\n')
    expect(hazardsOf(sql)).toEqual([])
  })

  it('still report the lock Postgres takes on them', () => {
    expect(verdict('CREATE TABLE t (id int); CREATE INDEX t_id_idx ON t (id)').lock).toBe('ShareLock')
  })
})

describe('concurrently-in-transaction', () => {
  it('fires after BEGIN and when other statements come first', () => {
    expect(rulesOf('BEGIN; CREATE INDEX CONCURRENTLY i ON users (email)')).toContain('concurrently-in-transaction')
    expect(rulesOf('ALTER TABLE users ADD COLUMN a int; DROP INDEX CONCURRENTLY i')).toContain(
      'concurrently-in-transaction',
    )
    expect(rulesOf('VACUUM users; VACUUM orders')).toContain('concurrently-in-transaction')
  })

  it('fires on the statement after it, naming it', () => {
    const findings = plan(
      'CREATE INDEX CONCURRENTLY i ON users (email); ALTER TABLE users ADD COLUMN a int',
    ).statements[1]?.verdict.findings.filter((f) => f.rule === 'concurrently-in-transaction')
    expect(findings?.[0]?.message).toMatch(/^CREATE INDEX CONCURRENTLY i ON/)
  })

  it('lets a statement stand alone, after SET, and after an explicit COMMIT', () => {
    expect(rulesOf('CREATE INDEX CONCURRENTLY i ON users (email)')).not.toContain('concurrently-in-transaction')
    expect(rulesOf("SET lock_timeout = '2s'; SET statement_timeout = 0; REINDEX INDEX CONCURRENTLY i")).not.toContain(
      'concurrently-in-transaction',
    )
    expect(
      rulesOf('BEGIN; ALTER TABLE users ADD COLUMN a int; COMMIT; CREATE INDEX CONCURRENTLY i ON users (a)'),
    ).not.toContain('concurrently-in-transaction')
  })
})

describe('missing-lock-timeout', () => {
  const id = 'missing-lock-timeout'

  it('fires once, on the first statement that takes a write-blocking lock', () => {
    const fired = plan('SELECT 1; ALTER TABLE a ADD COLUMN x int; ALTER TABLE b ADD COLUMN y int').statements.map((s) =>
      s.verdict.findings.some((f) => f.rule === id),
    )
    expect(fired).toEqual([false, true, false])
  })

  it('does not fire on weak locks or new tables', () => {
    expect(rulesOf('CREATE INDEX CONCURRENTLY i ON users (email)')).not.toContain(id)
    expect(rulesOf('ALTER TABLE users VALIDATE CONSTRAINT c')).not.toContain(id)
    expect(rulesOf("UPDATE users SET name = 'x' WHERE id = 1")).not.toContain(id)
    expect(rulesOf('CREATE TABLE t (id bigint); ALTER TABLE t ADD COLUMN x int')).not.toContain(id)
  })

  it('counts SET LOCAL only until the transaction ends, and a zero timeout as none', () => {
    expect(rulesOf("BEGIN; SET LOCAL lock_timeout = '1s'; ALTER TABLE a ADD COLUMN x int; COMMIT")).not.toContain(id)
    expect(rulesOf("BEGIN; SET LOCAL lock_timeout = '1s'; COMMIT; ALTER TABLE a ADD COLUMN x int")).toContain(id)
    expect(rulesOf('SET lock_timeout = 0; ALTER TABLE a ADD COLUMN x int')).toContain(id)
    expect(rulesOf("SET lock_timeout = '0'; ALTER TABLE a ADD COLUMN x int")).toContain(id)
    expect(rulesOf("SET lock_timeout = '3s'; RESET lock_timeout; ALTER TABLE a ADD COLUMN x int")).toContain(id)
  })
})

describe('multiple-access-exclusive', () => {
  const id = 'multiple-access-exclusive'

  it('fires on the second ACCESS EXCLUSIVE statement on one table', () => {
    expect(
      rulesOf('ALTER TABLE users ADD COLUMN a int; CREATE INDEX i ON users (a); DROP TRIGGER t ON users'),
    ).toContain(id)
  })

  it('does not fire across tables, after COMMIT, or for weaker locks', () => {
    expect(rulesOf('ALTER TABLE a ADD COLUMN x int; ALTER TABLE b ADD COLUMN x int')).not.toContain(id)
    expect(rulesOf('ALTER TABLE a ADD COLUMN x int; COMMIT; ALTER TABLE a ADD COLUMN y int')).not.toContain(id)
    expect(rulesOf('ALTER TABLE a ADD COLUMN x int; CREATE INDEX i ON a (x)')).not.toContain(id)
  })
})

describe('set-not-null-without-check', () => {
  const id = 'set-not-null-without-check'

  it('does not fire once a CHECK (col IS NOT NULL) was validated earlier in the script', () => {
    const sql = [
      'ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID',
      'COMMIT',
      'ALTER TABLE users VALIDATE CONSTRAINT users_email_nn',
      'ALTER TABLE users ALTER COLUMN email SET NOT NULL',
    ].join(';\n')
    expect(rulesOf(sql)).not.toContain(id)
    expect(rulesOf(sql)).not.toContain('validate-constraint-in-same-transaction')
  })

  it('fires for the NOT VALID CHECK alone, and for another column', () => {
    expect(
      rulesOf(
        'ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID; ALTER TABLE users ALTER COLUMN email SET NOT NULL',
      ),
    ).toContain(id)
    expect(
      rulesOf(
        'ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL); ALTER TABLE users ALTER COLUMN name SET NOT NULL',
      ),
    ).toContain(id)
  })
})

describe('alter-column-type-rewrite', () => {
  const id = 'alter-column-type-rewrite'

  it.each([
    'ALTER TABLE t ALTER COLUMN c TYPE bigint',
    'ALTER TABLE t ALTER COLUMN c TYPE text USING c::text',
    'ALTER TABLE t ALTER COLUMN c TYPE timestamptz',
    'ALTER TABLE t ALTER COLUMN c TYPE char(10)',
    'ALTER TABLE t ALTER COLUMN c TYPE uuid USING c::uuid',
    'ALTER TABLE t ALTER COLUMN c TYPE int[]',
  ])('fires on a rewrite: %s', (sql) => {
    expect(rulesOf(sql)).toContain(id)
    expect(verdict(sql).rewrite).toBe(true)
  })

  it.each([
    'ALTER TABLE t ALTER COLUMN c TYPE varchar(200)',
    'ALTER TABLE t ALTER COLUMN c TYPE text',
    'ALTER TABLE t ALTER COLUMN c TYPE varchar',
    'ALTER TABLE t ALTER COLUMN c TYPE numeric(14,2)',
    'ALTER TABLE t ALTER COLUMN c TYPE numeric',
    'ALTER TABLE t ALTER COLUMN c TYPE timestamp(6)',
  ])('does not fire on a change Postgres makes in the catalog: %s', (sql) => {
    expect(rulesOf(sql)).not.toContain(id)
    expect(verdict(sql).rewrite).toBe(false)
  })
})

describe('ADD COLUMN and the Postgres version', () => {
  const id = 'add-column-with-volatile-default'

  it('fires on a constant default before Postgres 11 only', () => {
    const sql = 'ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true'
    expect(rulesOf(sql, { pgVersion: 10 })).toContain(id)
    expect(verdict(sql, { pgVersion: 10 }).rewrite).toBe(true)
    expect(rulesOf(sql, { pgVersion: 11 })).not.toContain(id)
    expect(verdict(sql).rewrite).toBe(false)
  })

  it.each([
    'ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid()',
    'ALTER TABLE users ADD COLUMN seen timestamptz DEFAULT clock_timestamp()',
    'ALTER TABLE users ADD COLUMN n bigserial',
    'ALTER TABLE users ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY',
    'ALTER TABLE users ADD COLUMN n int DEFAULT my_function()',
  ])('fires on a default evaluated per row on any version: %s', (sql) => {
    expect(rulesOf(sql)).toContain(id)
  })

  it.each([
    'ALTER TABLE users ADD COLUMN created timestamptz DEFAULT now()',
    "ALTER TABLE users ADD COLUMN status text DEFAULT 'new'",
    'ALTER TABLE users ADD COLUMN n int DEFAULT NULL',
    "ALTER TABLE users ADD COLUMN tags jsonb DEFAULT '{}'::jsonb",
  ])('does not fire on a default Postgres evaluates once: %s', (sql) => {
    expect(rulesOf(sql)).not.toContain(id)
  })
})

describe('prefer rules', () => {
  it('read ADD COLUMN and ALTER COLUMN TYPE as well as CREATE TABLE', () => {
    expect(rulesOf('ALTER TABLE t ADD COLUMN at timestamp')).toContain('prefer-timestamptz')
    expect(rulesOf('ALTER TABLE t ALTER COLUMN doc TYPE json USING doc::json')).toContain('prefer-jsonb')
    expect(rulesOf('CREATE TABLE t (id int, PRIMARY KEY (id))')).toContain('prefer-bigint-over-int')
    expect(rulesOf('CREATE TABLE t (id serial PRIMARY KEY)')).toEqual(
      expect.arrayContaining(['prefer-identity', 'prefer-bigint-over-int']),
    )
  })

  it('leave function signatures and non-key integers alone', () => {
    expect(
      rulesOf('CREATE FUNCTION f(at timestamp, doc json) RETURNS varchar(10) LANGUAGE sql AS $$ SELECT 1 $$'),
    ).toEqual([])
    expect(rulesOf('CREATE TABLE t (id bigint PRIMARY KEY, qty int, parent int REFERENCES t (id))')).toEqual([])
  })
})

describe('rendered hazard findings', () => {
  it('renders add-index-without-concurrently with the object names', () => {
    const f = plan('CREATE INDEX users_email_idx ON users (email)').statements[0]?.verdict.findings.find(
      (x) => x.rule === 'add-index-without-concurrently',
    )
    expect(f).toMatchInlineSnapshot(`
      {
        "hint": "Use CREATE INDEX CONCURRENTLY users_email_idx ON users (email) in a migration of its own, outside a transaction; if it fails, drop the INVALID index it leaves and run it again.",
        "message": "CREATE INDEX users_email_idx takes a SHARE lock on users and reads every row: inserts, updates and deletes on users wait until the build ends.",
        "rule": "add-index-without-concurrently",
        "severity": "error",
        "tier": "safe",
      }
    `)
  })

  it('renders set-not-null-without-check as numbered steps filled in with the statement', () => {
    const f = plan('ALTER TABLE users ALTER COLUMN email SET NOT NULL').statements[0]?.verdict.findings.find(
      (x) => x.rule === 'set-not-null-without-check',
    )
    expect(f).toMatchInlineSnapshot(`
      {
        "hint": "1. ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID. 2. In a later migration: ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null (reads and writes go on). 3. ALTER TABLE users ALTER COLUMN email SET NOT NULL: Postgres 12 and later use the validated CHECK and skip the scan. 4. ALTER TABLE users DROP CONSTRAINT users_email_not_null. On Postgres 11 and earlier, stop after step 2 and keep the CHECK instead of NOT NULL.",
        "message": "SET NOT NULL on users.email reads every row to prove there is no NULL, under an ACCESS EXCLUSIVE lock: reads and writes of the table wait until it ends.",
        "rule": "set-not-null-without-check",
        "severity": "error",
        "tier": "safe",
      }
    `)
  })

  it('renders missing-lock-timeout with the lock it waits for', () => {
    const f = plan(
      'ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)',
    ).statements[0]?.verdict.findings.find((x) => x.rule === 'missing-lock-timeout')
    expect(f).toMatchInlineSnapshot(`
      {
        "hint": "Start the migration with SET lock_timeout = '5s' (and retry it when it times out), so a lock it cannot get fails fast instead of stalling the table.",
        "message": "ALTER TABLE orders ADD CONSTRAINT ... waits for a SHARE ROW EXCLUSIVE lock on orders with no lock_timeout set: while it waits behind a long-running query, every write to orders queues behind it.",
        "rule": "missing-lock-timeout",
        "severity": "warning",
        "tier": "safe",
      }
    `)
  })
})

describe('the verdict lock of statements whose SQL runs later', () => {
  it('is null for CREATE FUNCTION, whose body locks only when called', () => {
    expect(
      verdict('CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ ALTER TABLE users ADD COLUMN x int $$').lock,
    ).toBe(null)
  })
})

describe('docs/rules pages of the hazard rules', () => {
  const docs = resolve(import.meta.dirname, '../../../docs/rules')

  for (const rule of allRules.filter((r) => r.hazard === true)) {
    it(`docs/rules/${rule.id}.md explains ${rule.id} with its current wording`, () => {
      const path = resolve(docs, `${rule.id}.md`)
      expect(existsSync(path), `${path} is missing`).toBe(true)
      const page = readFileSync(path, 'utf8')
      const example = cases[rule.id]
      const finding = classify(example?.fires ?? '', caseOptions(rule.id))
        ._unsafeUnwrap()
        .statements.flatMap((s) => s.verdict.findings)
        .find((f) => f.rule === rule.id)
      expect(finding).toBeDefined()
      // The Problem section opens with the message ddl check prints; the page quotes message and hint.
      expect(page).toMatch(new RegExp(`## Problem\\s*\\n\\s*\\n${escapeRegExp(finding?.message ?? '')}\\n`))
      expect(page).toContain(`> ${finding?.hint}`)
      expect(page).toContain(`severity **${rule.severity}**`)
      for (const heading of ['## Safe alternative', 'Instead of:', 'Use:', 'squawk:', 'strong_migrations:']) {
        expect(page, heading).toContain(heading)
      }
    })
  }
})

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
