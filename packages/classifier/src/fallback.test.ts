import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fallbackVerdict } from './fallback.js'
import { compareTiers } from './tier.js'

const tier = (sql: string) => fallbackVerdict(sql).tier
const rules = (sql: string) => fallbackVerdict(sql).findings.map((f) => f.rule)

describe('fallbackVerdict', () => {
  it('holds an unreadable statement as cautious', () => {
    expect(fallbackVerdict('CREATE TABEL users (id int)')).toEqual({
      tier: 'cautious',
      findings: [
        {
          rule: 'unparsed-statement',
          tier: 'cautious',
          severity: 'warning',
          message:
            'The statement `CREATE TABEL users ...` cannot be parsed by the Postgres grammar, so what it changes or loses cannot be known.',
          hint: 'Fix the syntax so the Postgres parser can read it, then run ddl check again to get its real tier.',
        },
      ],
    })
  })

  it('classifies an unreadable statement with a destructive verb as destructive', () => {
    expect(fallbackVerdict('DROP TABEL users')).toEqual({
      tier: 'destructive',
      findings: [
        {
          rule: 'unparsed-destructive',
          tier: 'destructive',
          severity: 'error',
          message:
            'The statement `DROP TABEL users` cannot be parsed by the Postgres grammar, and it contains DROP: it may drop objects, delete rows or change privileges, and nothing proves otherwise.',
          hint: '1. Fix the syntax so the Postgres parser can read it. 2. Run ddl check again: the statement then gets its real tier from its parse tree.',
        },
      ],
    })
  })

  it.each([
    'drop table users cascade oops',
    'DeLeTe FROM users WHERE',
    'truncate users,',
    'update users set',
    'alter table users drop',
    'merge into t using',
    'grant all on t to',
    'revoke all on t from',
    'reassign owned by a to',
    "copy t from '/etc/passwd' ((",
    'do $$ begin $$ language',
    'execute p(',
    'call p(',
    'commit and',
    'rollback to to',
    'end end',
    'abort abort',
    'set role to to',
    'reset reset all',
    'lock table t in',
    'vacuum full (t',
    'cluster t using using',
    'reindex table (t',
    "load 'x' 'y'",
    'import foreign schema s from',
    'select pg_terminate_backend(pid) from from',
    'select pg_catalog.PG_CANCEL_BACKEND(1) ((',
    'select lo_unlink(1) ((',
    "select dblink_exec('x', 'y') ((",
    "select pg_read_file('/etc/passwd') ((",
    "select set_config('role', 'x', false) ((",
    'select pg_reload_conf() ((',
    'select pg_drop_replication_slot(1) ((',
    'select "pg_terminate_backend"(1) ((',
    'select U&"pg_terminate\\005fbackend"(1) ((',
    'select U&"pg_terminate!005fbackend" UESCAPE \'!\' (1) ((',
  ])('classifies %s as destructive', (sql) => {
    expect(tier(sql)).toBe('destructive')
    expect(rules(sql)).toEqual(['unparsed-destructive'])
  })

  it.each([
    'create tabel t (id int)',
    'select "drop", "delete" from t where',
    'select 1 -- drop table t\n from from',
    'select 1 /* truncate t */ from from',
    'select dropped, deleted, updates, settings, alters from from',
    'insert into t (id) values (1',
    'create index on t (x',
    'select x$drop from from',
  ])('leaves %s cautious (a near miss)', (sql) => {
    expect(tier(sql)).toBe('cautious')
    expect(rules(sql)).toEqual(['unparsed-statement'])
  })

  it.each([
    [
      'a verb inside a string, such as a function body in quotes',
      "create function f() returns void as 'begin delete from t; end' languag plpgsql",
    ],
    ['a verb inside a dollar-quoted body', 'do $body$ begin truncate t; end $body$ languag'],
    ['a verb inside a nested dollar quote', 'select $a$ x $b$ y drop z $b$ $a$ ))'],
    ['a verb behind doubled quotes', "select 'execute ''drop'' ' ))"],
    ['a verb spelled with E-string escapes', "select E'\\x64rop table t' ))"],
    ['a verb spelled with octal escapes', "select E'\\144rop table t' ))"],
    ['a verb spelled with U& escapes', "select U&'\\0064rop table t' ))"],
    ['a verb split across continued string parts', "select 'dr'\n'op table t' ))"],
    ['a function named inside a string', "execute 'select pg_terminate_backend(1)' ))"],
    ['a verb inside an unterminated string', "select 'oops; drop table t"],
    ['a verb inside an unterminated dollar quote', 'do $$ begin drop table t;'],
    ['a verb inside an unterminated comment', 'select 1 /* drop table t;'],
    ['a verb inside an unterminated quoted identifier', 'select "x; drop table t'],
  ])('fails closed on %s', (_what, sql) => {
    expect(tier(sql)).toBe('destructive')
  })

  it('says when the verb was found inside a string or body', () => {
    const [finding] = fallbackVerdict("select 'delete from t' ((").findings
    expect(finding?.message).toContain('it contains DELETE (inside a string or body too)')
  })

  it('lists at most three names, then a count', () => {
    const [finding] = fallbackVerdict('drop delete truncate update alter lo_unlink').findings
    expect(finding?.message).toContain('it contains DROP, DELETE, TRUNCATE and 2 more and calls lo_unlink')
  })

  it('never puts string literals in its message (they may hold secrets)', () => {
    const [finding] = fallbackVerdict("alter role x password 'hunter2' oops").findings
    expect(finding?.message).not.toContain('hunter2')
  })

  it('is destructive when quoted bodies nest too deeply to read', () => {
    let sql = 'x'
    for (let i = 0; i < 400; i++) sql = `$t${i}$ ${sql} $t${i}$`
    const verdict = fallbackVerdict(`select ${sql}`)
    expect(verdict.tier).toBe('destructive')
  })

  it('handles a large unreadable statement quickly', () => {
    const sql = `select ${"'a', ".repeat(200_000)} from from`
    const t0 = performance.now()
    expect(tier(sql)).toBe('cautious')
    expect(performance.now() - t0).toBeLessThan(2000)
  })
})

// Statements built from tokens, so a variant can add comments, whitespace or change case between them.
const word = fc.constantFrom(
  'select',
  'from',
  'create',
  'table',
  'users',
  'where',
  'drop',
  'delete',
  'set',
  'pg_terminate_backend',
  'lo_unlink',
  'x',
  'id',
)
const other = fc.constantFrom('(', ')', ',', '1', '=', "'a'", "'drop t'", '$$ truncate $$', '"drop"', '$1', '::', '*')
const tokens = fc.array(fc.oneof(word, other), { minLength: 1, maxLength: 12 })
const separator = fc.constantFrom(' ', '\n', '\t', ' /* c */ ', ' -- c\n', '/**/', ' /* drop */ ', '\n\n  ')
const caseChange = fc.constantFrom('lower', 'upper', 'mixed')

function recase(token: string, how: string): string {
  if (!/^[a-z_]+$/.test(token)) return token
  if (how === 'upper') return token.toUpperCase()
  if (how === 'mixed') return [...token].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c)).join('')
  return token
}

describe('fallbackVerdict properties', () => {
  it('never returns safe, on any text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          tokens.map((t) => t.join(' ')),
        ),
        (sql) => {
          const verdict = fallbackVerdict(sql)
          expect(verdict.tier).not.toBe('safe')
          expect(verdict.findings.length).toBeGreaterThan(0)
          for (const f of verdict.findings) expect(f.severity).toBe(f.tier === 'destructive' ? 'error' : 'warning')
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('adding comments or whitespace, or changing keyword case, never lowers the tier', () => {
    fc.assert(
      fc.property(
        tokens,
        fc.array(separator, { minLength: 12, maxLength: 12 }),
        fc.array(caseChange, { minLength: 12, maxLength: 12 }),
        (parts, separators, cases) => {
          const base = parts.join(' ')
          const variant = parts.map((t, i) => `${recase(t, cases[i] ?? 'lower')}${separators[i] ?? ' '}`).join('')
          expect(compareTiers(tier(variant), tier(base))).toBeGreaterThanOrEqual(0)
        },
      ),
      { numRuns: 2000 },
    )
  })
})
