/**
 * Resource limits (issue 11): huge scripts are classified correctly or refused with a clear error;
 * deeply nested SQL gets a fail-closed verdict without taking the parser down; and when the parser
 * itself crashes, the next classify call still works. No timings are asserted: only counts and tiers.
 */
import { classify, init, MAX_INPUT_LENGTH, type Tier } from '@ddl/classifier'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseRaw, parserReady } from '../src/parser.js'

beforeAll(async () => {
  await init()
})

const N = 10_000

function tally(tiers: readonly Tier[]): Record<Tier, number> {
  const counts: Record<Tier, number> = { safe: 0, cautious: 0, destructive: 0 }
  for (const t of tiers) counts[t]++
  return counts
}

describe('huge scripts', () => {
  it('classifies a 100,000-statement script with keepAst: false: every statement, in order, with its tier', () => {
    const shapes = (i: number) => [
      `CREATE TABLE t${i} (id int)`,
      `INSERT INTO t${i} VALUES (${i})`,
      // Tables the script did not create: what a DELETE or DROP of them loses existed before.
      `DELETE FROM u${i} WHERE id = ${i}`,
      `DROP TABLE u${i}`,
    ]
    const expected: string[] = []
    for (let i = 0; i < 25_000; i++) expected.push(...shapes(i))
    expected[50_001] = 'SELEC 1'
    const sql = `${expected.join(';\n')};\n`
    const plan = classify(sql, { keepAst: false })._unsafeUnwrap()
    expect(plan.statements).toHaveLength(100_000)
    expect(plan.statements.map((s) => s.text)).toEqual(expected)
    expect(plan.statements[99_999]?.span.line).toBe(100_000)
    expect(plan.statements.every((s) => s.ast === undefined)).toBe(true)
    const rejected = plan.statements[50_001]
    expect(rejected?.kind).toBe('Unparsed')
    expect(rejected?.verdict.tier).not.toBe('safe')
    expect(plan.statements[50_000]?.kind).toBe('CreateStmt')
    expect(plan.statements[50_002]?.kind).toBe('DeleteStmt')
    // 25,000 each of CREATE and INSERT (safe), DELETE ... WHERE (cautious), DROP (destructive); one
    // INSERT replaced by the rejected statement.
    expect(tally(plan.statements.map((s) => s.verdict.tier))).toEqual({
      safe: 49_999,
      cautious: 25_001,
      destructive: 25_000,
    })
    expect(plan.tier).toBe('destructive')
    expect(plan.hasParseErrors).toBe(true)
  }, 300_000)

  it('classifies a 50 MB script of seed-data INSERTs whose strings hold dashes, brackets, ; and comment markers', () => {
    const note = 'a note - with (brackets) [and] -- dashes, /* comment markers */ ; semicolons, $$ dollars $$ '
    const row = (i: number) => `(${i}, '${note}${i}', '2024-01-0${(i % 9) + 1}', -${i}.5)`
    const insert = (n: number) =>
      `INSERT INTO seed (id, note, day, delta) VALUES ${Array.from({ length: 400 }, (_, i) => row(n * 400 + i)).join(',\n  ')}`
    const parts: string[] = []
    let size = 0
    for (let n = 0; size < 50 * 1024 * 1024; n++) {
      const statement = n === 300 ? 'DROP TABLE seed' : insert(n)
      parts.push(statement)
      size += statement.length + 2
    }
    const sql = parts.join(';\n')
    expect(sql.length).toBeGreaterThan(50 * 1024 * 1024)
    const plan = classify(sql, { keepAst: false })._unsafeUnwrap()
    expect(plan.statements).toHaveLength(parts.length)
    expect(plan.hasParseErrors).toBe(false)
    const kinds = plan.statements.map((s) => `${s.kind}:${s.verdict.tier}`)
    expect(kinds.filter((k) => k === 'InsertStmt:safe')).toHaveLength(parts.length - 1)
    expect(kinds[300]).toBe('DropStmt:destructive')
    expect(plan.statements[300]?.span.line).toBe(1 + 300 * 400)
    expect(plan.tier).toBe('destructive')
  }, 300_000)

  it('refuses a script longer than MAX_INPUT_LENGTH with an InputError that names the limit', () => {
    const error = classify(`SELECT 1;${' '.repeat(MAX_INPUT_LENGTH)}`)._unsafeUnwrapErr()
    expect(error.kind).toBe('InputError')
    expect(error.message).toBe(
      `The script is ${MAX_INPUT_LENGTH + 9} characters long; classify() accepts at most ${MAX_INPUT_LENGTH}. Split it into smaller files.`,
    )
    expect(classify('SELECT 1')._unsafeUnwrap().tier).toBe('safe')
  })

  it('parses a 2,000-row INSERT of dates and UUIDs: dashes in strings are not operators', () => {
    // Counted as operators, the 10,000 dashes in these strings made the statement "too deep to
    // parse": unparsed, so cautious, and refused by execute and ddl migrate as a parse error.
    const rows = Array.from(
      { length: 2000 },
      (_, i) => `(${i}, '2024-01-01', '0b7e4d3c-1f2a-4b5c-8d9e-${String(i).padStart(12, '0')}', 'x -- y (z)')`,
    )
    const plan = classify(`INSERT INTO t (id, day, uid, note) VALUES ${rows.join(', ')}`)._unsafeUnwrap()
    expect(plan.statements.map((s) => [s.kind, s.verdict.tier])).toEqual([['InsertStmt', 'safe']])
  })

  it('parses 5,000 rows of negative numbers: a wide VALUES list is not deep', () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `(-${i}, -${i}.5)`)
    const plan = classify(`INSERT INTO points (x, y) VALUES ${rows.join(', ')}`)._unsafeUnwrap()
    expect(plan.statements.map((s) => [s.kind, s.verdict.tier])).toEqual([['InsertStmt', 'safe']])
  })
})

describe('deeply nested SQL', () => {
  const subqueries: ReadonlyArray<readonly [string, string]> = [
    ['10,000 nested subqueries in FROM', `SELECT * FROM ${'(SELECT * FROM '.repeat(N)}users${') s'.repeat(N)}`],
    ['10,000 nested scalar subqueries', `SELECT ${'(SELECT '.repeat(N)}1${')'.repeat(N)}`],
    ['10,000 nested EXISTS', `SELECT ${'EXISTS (SELECT '.repeat(N)}1${')'.repeat(N)}`],
    ['10,000 nested CTEs', `${'WITH a AS ('.repeat(N)}SELECT 1${') SELECT 1'.repeat(N)}`],
    ['10,000 nested parentheses', `SELECT ${'('.repeat(N)}1${')'.repeat(N)}`],
  ]
  for (const [name, deep] of subqueries) {
    it(`gives ${name} a fail-closed verdict, keeps its neighbours' tiers, and the next call works`, () => {
      const plan = classify(`CREATE TABLE ok (id int);\n${deep};\nDROP TABLE users`)._unsafeUnwrap()
      expect(plan.statements.map((s) => s.kind)).toEqual(['CreateStmt', 'Unparsed', 'DropStmt'])
      expect(plan.statements.map((s) => s.verdict.tier)).toEqual(['safe', 'cautious', 'destructive'])
      expect(plan.statements[1]?.parseError?.message).toBe('statement nested too deeply for the parser; not parsed')
      expect(classify('SELECT 1')._unsafeUnwrap().tier).toBe('safe')
    })
  }

  it('keeps a DELETE hidden in 10,000 nested subqueries destructive', () => {
    const sql = `DELETE FROM users WHERE id IN ${'(SELECT id FROM users WHERE id IN '.repeat(N)}(1)${')'.repeat(N)}`
    expect(classify(sql)._unsafeUnwrap().tier).toBe('destructive')
  })

  // Shapes without brackets: each word or operator nests the tree one level deeper. Before they were
  // counted, these reached the parser and crashed it (a trap in its C code, "Maximum call stack size
  // exceeded"), costing a parser instance each time.
  const chains: ReadonlyArray<readonly [string, string]> = [
    ['IS NOT NULL', `SELECT true${' IS NOT NULL'.repeat(N)}`],
    ['COLLATE', `SELECT 'a'${' COLLATE "C"'.repeat(N)}`],
    ['AT TIME ZONE', `SELECT now()${" AT TIME ZONE 'UTC'".repeat(N)}`],
    ['UNION', `SELECT 1, 2${' UNION SELECT 1, 2'.repeat(N)}`],
    ['JOIN', `SELECT 1 FROM t${' JOIN t ON true'.repeat(N)}`],
    ['IN', `SELECT 1${' IN (1)'.repeat(N)}`],
    ['OPERATOR(...)', `SELECT 1${' OPERATOR(pg_catalog.+) 1'.repeat(N)}`],
    ['||', `SELECT 'a'${" || 'a'".repeat(N)}`],
  ]
  for (const [name, deep] of chains) {
    it(`gives a chain of 10,000 ${name} a fail-closed verdict without crashing the parser`, () => {
      const plan = classify(deep)._unsafeUnwrap()
      expect(plan.statements.map((s) => [s.kind, s.verdict.tier])).toEqual([['Unparsed', 'cautious']])
      expect(plan.statements[0]?.parseError?.message).toBe('statement nested too deeply for the parser; not parsed')
      expect(parserReady()).toBe(true)
      expect(classify('DROP TABLE users')._unsafeUnwrap().tier).toBe('destructive')
    })
  }

  it('reads a DO block nested 10,000 IF levels deep as unreadable: destructive', () => {
    const sql = `DO $$ BEGIN ${'IF true THEN '.repeat(N)}DELETE FROM users;${' END IF;'.repeat(N)} END $$`
    const plan = classify(sql)._unsafeUnwrap()
    expect(plan.tier).toBe('destructive')
    expect(plan.statements[0]?.verdict.findings.map((f) => f.rule)).toContain('unreadable-body')
    expect(classify('SELECT 1')._unsafeUnwrap().tier).toBe('safe')
  })
})

describe('after the parser crashes', () => {
  // `IS NOT NULL` chained 10,000 times exhausts the C stack of the WebAssembly parser (classify's
  // guard keeps it away from the parser; parseRaw alone does not).
  const crasher = `SELECT true${' IS NOT NULL'.repeat(N)}`

  it('gives the next classify call the spare parser at once', () => {
    expect(parseRaw(crasher)).toMatchObject({ ok: false, crashed: true })
    expect(parserReady()).toBe(true)
    expect(classify('DROP TABLE users')._unsafeUnwrap().tier).toBe('destructive')
  })

  it('says the parser is being reloaded when no spare was left, then takes the new one without init()', async () => {
    await init()
    // Two crashes in a row use up the active instance and its spare.
    expect(parseRaw(crasher)).toMatchObject({ ok: false, crashed: true })
    expect(parseRaw(crasher)).toMatchObject({ ok: false, crashed: true })
    const error = classify('SELECT 1')._unsafeUnwrapErr()
    expect(error.kind).toBe('NotInitializedError')
    expect(error.message).toBe(
      'The parser crashed on earlier input and is being reloaded; nothing was classified. ' +
        'Try again in a moment (`await init()` waits for it).',
    )
    // The replacement, already loading, takes over by itself (it was lost before: every later call
    // failed until someone called init() again).
    for (let i = 0; i < 600 && !parserReady(); i++) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(parserReady()).toBe(true)
    expect(classify('DROP TABLE users')._unsafeUnwrap().tier).toBe('destructive')
    await init()
    expect(classify('SELECT 1')._unsafeUnwrap().tier).toBe('safe')
  }, 60_000)
})
