/**
 * Fuzzing the classifier (issue 11): arbitrary bytes and SQL-ish strings never make classify throw
 * nor call safe a statement Postgres's own parser rejects; statements cover the input exactly; and
 * wrapping a dangerous statement in a DO block, a CTE, EXPLAIN ANALYZE, PREPARE, a function body or
 * a rule never lowers its tier. `properties.test.ts` covers case, comments, whitespace, quoting,
 * qualification and a harmless prefix; this file adds the wrappers and the fuzzing.
 */
import { classify, compareTiers, init, type Plan, type Tier, tokenize } from '@ddl/classifier'
import fc from 'fast-check'
import { loadModule, parseSync } from 'libpg-query'
import { beforeAll, describe, expect, it } from 'vitest'

beforeAll(async () => {
  await init()
  await loadModule()
})

const tierOf = (sql: string): Tier => classify(sql)._unsafeUnwrap().tier

/** True when Postgres's parser (libpg-query, independent of the classifier's instance) accepts `sql`. */
function parses(sql: string): boolean {
  try {
    parseSync(sql)
    return true
  } catch {
    return false
  }
}

/**
 * What must hold for any input: classify returns (an InputError only for a NUL byte or invalid
 * Unicode), every statement it calls `safe` is one Postgres's parser accepts on its own, an
 * `Unparsed` statement is never `safe`, and the spans are exact, ordered and cover every token that
 * is neither a comment nor a `;`.
 */
function checkAnyInput(sql: string): void {
  let result: ReturnType<typeof classify> | undefined
  expect(() => {
    result = classify(sql, { keepAst: false })
  }).not.toThrow()
  if (result === undefined) return
  if (result.isErr()) {
    expect(result.error.kind).toBe('InputError')
    expect(sql.includes('\u0000') || !sql.isWellFormed()).toBe(true)
    return
  }
  const plan: Plan = result.value
  for (const s of plan.statements) {
    if (s.kind === 'Unparsed') expect(s.verdict.tier, s.text).not.toBe('safe')
    if (s.verdict.tier === 'safe') expect(parses(s.text), `called safe but rejected by Postgres: ${s.text}`).toBe(true)
  }
  expectExactCover(sql, plan)
}

/** Spans in order, each text its span, and every token that is not a comment or `;` inside one. */
function expectExactCover(sql: string, plan: Plan): void {
  let end = 0
  for (const s of plan.statements) {
    expect(s.span.offset).toBeGreaterThanOrEqual(end)
    expect(s.span.length).toBeGreaterThan(0)
    expect(sql.slice(s.span.offset, s.span.offset + s.span.length)).toBe(s.text)
    end = s.span.offset + s.span.length
  }
  const spans = plan.statements.map((s) => [s.span.offset, s.span.offset + s.span.length] as const)
  let k = 0
  for (const token of tokenize(sql)) {
    if (token.type === 'comment' || token.type === 'semicolon') continue
    while (k < spans.length && (spans[k]?.[1] ?? 0) <= token.start) k++
    const span = spans[k]
    const inside = span !== undefined && span[0] <= token.start && token.end <= span[1]
    expect(
      inside,
      `token ${JSON.stringify(sql.slice(token.start, token.end))} at ${token.start} is in no statement`,
    ).toBe(true)
  }
}

/** Pieces of SQL that change how the rest is read: quotes, comments, dollar quotes, escapes, Unicode. */
const fragments = [
  'SELECT',
  'DROP',
  'TABLE',
  'users',
  'DELETE',
  'FROM',
  'WHERE',
  'UPDATE',
  'SET',
  'INSERT INTO',
  'VALUES',
  'CREATE',
  'ALTER',
  'TRUNCATE',
  'DO',
  'BEGIN',
  'END',
  'COMMIT',
  'WITH',
  'AS',
  'EXPLAIN ANALYZE',
  'PREPARE p AS',
  'EXECUTE',
  'COPY',
  'PROGRAM',
  'RETURNING',
  'LANGUAGE plpgsql',
  'FUNCTION',
  '(',
  ')',
  ';',
  ',',
  '.',
  '*',
  '=',
  '::',
  '||',
  "'",
  "''",
  '"',
  '$$',
  '$a$',
  '$1',
  '--',
  '/*',
  '*/',
  '\n',
  '\r\n',
  "E'",
  '\\',
  "\\'",
  'U&"',
  "U&'\\0044'",
  'UESCAPE',
  '1',
  '0x1F',
  '1e5',
  '123abc',
  '.5',
  'é',
  '𝒳',
  '\uFEFF',
  '\u200B',
  '\u00A0',
  '\t',
] as const

const sqlish = fc
  .array(fc.tuple(fc.constantFrom(...fragments), fc.constantFrom('', ' ', '  ', '\n')), { maxLength: 40 })
  .map((parts) => parts.map(([f, s]) => f + s).join(''))

const utf8 = new TextDecoder('utf-8')

/** Bytes, decoded as UTF-8 the lossy way (bad sequences become U+FFFD), mixed with SQL fragments. */
const lossyBytes = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 24 }),
      fc.constantFrom(...fragments).map((f) => new TextEncoder().encode(`${f} `)),
    ),
    { maxLength: 24 },
  )
  .map((chunks) => {
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
    let at = 0
    for (const c of chunks) {
      bytes.set(c, at)
      at += c.length
    }
    return utf8.decode(bytes)
  })

describe('fuzzing classify', () => {
  it('never throws nor calls safe what Postgres rejects, on arbitrary bytes decoded as UTF-8 (lossy)', () => {
    fc.assert(fc.property(lossyBytes, checkAnyInput), { numRuns: 400 })
  })

  it('never throws nor calls safe what Postgres rejects, on arbitrary SQL-ish strings', () => {
    fc.assert(fc.property(sqlish, checkAnyInput), { numRuns: 600 })
  })

  it('never throws nor calls safe what Postgres rejects, on arbitrary Unicode strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 120 }), checkAnyInput), { numRuns: 300 })
  })

  it('covers with its statements every token of the input that is not a comment or a ;', () => {
    // A comment-free script of known statements: the cover is exact, whatever the separators.
    const pieces = fc.constantFrom('SELECT 1', "SELECT ';'", 'DROP TABLE t', 'SELEC x', 'SELECT $$;$$', "E'\\';'")
    const separator = fc.constantFrom(';', ';\n', ' ; ', ';;', '; -- c\n', ';/* ; */')
    fc.assert(
      fc.property(fc.array(fc.tuple(pieces, separator), { maxLength: 8 }), (parts) => {
        const sql = parts.map(([p, s]) => p + s).join('')
        expectExactCover(sql, classify(sql)._unsafeUnwrap())
      }),
      { numRuns: 300 },
    )
  })
})

/** What a statement is, to know which wrappers Postgres accepts around it. */
type Shape = 'dml' | 'ddl' | 'select'

/** Dangerous statements, token by token (so they can be rewritten), with their shape. */
const dangerous: ReadonlyArray<readonly [Shape, readonly string[]]> = [
  ['dml', ['DELETE', 'FROM', 'users']],
  ['dml', ['DELETE', 'FROM', 'users', 'WHERE', '1', '=', '1']],
  ['dml', ['DELETE', 'FROM', 'users', 'WHERE', 'id', '=', '7']],
  ['dml', ['UPDATE', 'users', 'SET', 'name', '=', "'x'"]],
  ['dml', ['UPDATE', 'users', 'SET', 'name', '=', "'x'", 'WHERE', 'true']],
  ['ddl', ['DROP', 'TABLE', 'users']],
  ['ddl', ['DROP', 'SCHEMA', 'app', 'CASCADE']],
  ['ddl', ['TRUNCATE', 'sessions']],
  ['ddl', ['ALTER', 'TABLE', 'users', 'DROP', 'COLUMN', 'phone']],
  ['ddl', ['ALTER', 'TABLE', 'users', 'DROP', 'CONSTRAINT', 'users_pkey']],
  ['ddl', ['GRANT', 'SELECT', 'ON', 'users', 'TO', 'reader']],
  ['select', ['SELECT', 'pg_terminate_backend', '(', '1', ')']],
  ['select', ['SELECT', '*', 'FROM', 'pg_read_file', '(', "'/etc/passwd'", ')']],
]

const keywords = new Set([
  'DELETE',
  'FROM',
  'WHERE',
  'UPDATE',
  'SET',
  'DROP',
  'TABLE',
  'SCHEMA',
  'CASCADE',
  'TRUNCATE',
  'ALTER',
  'COLUMN',
  'CONSTRAINT',
  'GRANT',
  'SELECT',
  'ON',
  'TO',
])
const qualifiable = new Set(['users', 'sessions'])
const identifiers = new Set([...qualifiable, 'app', 'phone', 'users_pkey', 'name', 'id', 'reader'])

/** Separators that stay valid inside a dollar-quoted body and inside a string passed to EXECUTE. */
const separator = fc.constantFrom(' ', '\n', '\t', '  ', ' /* c */ ', ' -- c\n', '/**/', ' /* /* n */ */ ')

/** The statement with keyword case, separators, quoting and qualification chosen at random. */
const rewritten = (tokens: readonly string[]) =>
  fc
    .tuple(
      fc.array(fc.boolean(), { minLength: tokens.length, maxLength: tokens.length }),
      fc.array(fc.boolean(), { minLength: tokens.length, maxLength: tokens.length }),
      fc.array(separator, { minLength: tokens.length, maxLength: tokens.length }),
      fc.boolean(),
    )
    .map(([lower, quote, seps, qualify]) =>
      tokens
        .map((t, i) => {
          let word = t
          if (keywords.has(t) && lower[i]) word = t.toLowerCase()
          if (identifiers.has(t)) {
            word = quote[i] ? `"${t}"` : t
            if (qualify && qualifiable.has(t)) word = `public.${word}`
          }
          return i === 0 ? word : `${seps[i]}${word}`
        })
        .join(''),
    )

interface Wrapper {
  readonly name: string
  readonly accepts: readonly Shape[]
  readonly wrap: (sql: string, shape: Shape) => string
}

/** In PL/pgSQL a SELECT whose result is dropped is written PERFORM. */
const asPlpgsql = (sql: string, shape: Shape) => (shape === 'select' ? sql.replace(/^select/i, 'PERFORM') : sql)

/** Definitions whose bodies are the dangerous statement. */
const definitions = {
  sql: (s: string) => `CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $f$ ${s} $f$`,
  plpgsql: (s: string, k: Shape) =>
    `CREATE OR REPLACE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $f$ BEGIN ${asPlpgsql(s, k)}; END $f$`,
  atomic: (s: string) => `CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC ${s}; END`,
}

const wrappers: readonly Wrapper[] = [
  { name: 'a DO block', accepts: ['dml', 'ddl', 'select'], wrap: (s, k) => `DO $$ BEGIN ${asPlpgsql(s, k)}; END $$` },
  {
    name: 'a DO block with a tagged dollar quote and a declaration',
    accepts: ['dml', 'ddl', 'select'],
    wrap: (s, k) => `DO LANGUAGE plpgsql $body$ DECLARE n int := 0; BEGIN n := n + 1; ${asPlpgsql(s, k)}; END $body$`,
  },
  {
    name: 'EXECUTE of a constant string in a DO block',
    accepts: ['dml', 'ddl', 'select'],
    wrap: (s) => `DO $$ BEGIN EXECUTE '${s.replaceAll("'", "''")}'; END $$`,
  },
  { name: 'a data-modifying CTE', accepts: ['dml'], wrap: (s) => `WITH x AS (${s} RETURNING 1) SELECT 1` },
  {
    name: 'a CTE read by the outer statement',
    accepts: ['dml'],
    wrap: (s) => `WITH x AS (${s} RETURNING *) SELECT count(*) FROM x`,
  },
  { name: 'EXPLAIN ANALYZE', accepts: ['dml', 'select'], wrap: (s) => `EXPLAIN ANALYZE ${s}` },
  { name: 'EXPLAIN (ANALYZE, BUFFERS)', accepts: ['dml', 'select'], wrap: (s) => `EXPLAIN (ANALYZE, BUFFERS) ${s}` },
  { name: 'PREPARE', accepts: ['dml', 'select'], wrap: (s) => `PREPARE p AS ${s}` },
  // A definition runs nothing when created: the script that defines and then calls it runs the body.
  {
    name: 'a SQL function body, then a call',
    accepts: ['dml', 'ddl', 'select'],
    wrap: (s) => `${definitions.sql(s)}; SELECT f()`,
  },
  {
    name: 'a PL/pgSQL function body, then a call in a trigger-free SELECT list',
    accepts: ['dml', 'ddl', 'select'],
    wrap: (s, k) => `${definitions.plpgsql(s, k)}; SELECT 1, f() FROM (VALUES (1)) v`,
  },
  {
    name: 'a BEGIN ATOMIC procedure body, then CALL',
    accepts: ['dml', 'select'],
    wrap: (s) => `${definitions.atomic(s)}; CALL p()`,
  },
  {
    name: 'a BEGIN ATOMIC procedure body, then CALL from a DO block',
    accepts: ['dml', 'select'],
    wrap: (s) => `${definitions.atomic(s)}; DO $$ BEGIN CALL p(); END $$`,
  },
  { name: 'a rule action', accepts: ['dml'], wrap: (s) => `CREATE RULE r AS ON INSERT TO t DO ALSO ${s}` },
]

describe('wrapping a dangerous statement never lowers its tier', () => {
  for (const [shape, tokens] of dangerous) {
    const original = tokens.join(' ')
    const fitting = wrappers.filter((w) => w.accepts.includes(shape))
    it(`keeps the tier of "${original}" in each of the ${fitting.length} wrappers Postgres accepts around it`, () => {
      const base = tierOf(original)
      fc.assert(
        fc.property(rewritten(tokens), fc.constantFrom(...fitting), fc.boolean(), (sql, wrapper, twice) => {
          let wrapped = wrapper.wrap(sql, shape)
          // A data-modifying CTE is itself a statement EXPLAIN ANALYZE, PREPARE and a DO block run.
          if (twice && shape === 'dml' && wrapper.name.includes('CTE')) {
            wrapped = `DO $$ BEGIN EXECUTE '${wrapped.replaceAll("'", "''")}'; END $$`
          }
          const tier = tierOf(wrapped)
          expect(compareTiers(tier, base), `${wrapped} is ${tier}, below ${base}`).toBeGreaterThanOrEqual(0)
        }),
        { numRuns: 80 },
      )
    })
  }

  it('names the body’s tier on the definition, and keeps a body that reaches outside the transaction at its tier', () => {
    for (const [shape, tokens] of dangerous) {
      const original = tokens.join(' ')
      const base = tierOf(original)
      const escapes = shape === 'select'
      for (const [kind, define] of Object.entries(definitions)) {
        if (kind === 'atomic' && shape === 'ddl') continue
        const plan = classify(define(original, shape))._unsafeUnwrap()
        const only = plan.statements[0]
        expect(plan.statements).toHaveLength(1)
        if (escapes) {
          // pg_terminate_backend, pg_read_file: neither the effect check nor undo can see them.
          expect(plan.tier, define(original, shape)).toBe('destructive')
        } else {
          // The definition itself loses nothing (CREATE OR REPLACE is at most cautious) ...
          expect(compareTiers(plan.tier, 'cautious'), define(original, shape)).toBeLessThanOrEqual(0)
          // ... and says what a call would be.
          const note = only?.verdict.findings.find((f) => f.rule === 'function-body' && f.message.includes(`(${base},`))
          expect(note, `${define(original, shape)} names its body's tier ${base}`).toBeDefined()
        }
      }
    }
  })

  it('checks each wrapper against Postgres: every wrapped statement parses, so the tier is read, not guessed', () => {
    for (const [shape, tokens] of dangerous) {
      for (const wrapper of wrappers.filter((w) => w.accepts.includes(shape))) {
        const sql = wrapper.wrap(tokens.join(' '), shape)
        expect(parses(sql), sql).toBe(true)
        expect(
          classify(sql)
            ._unsafeUnwrap()
            .statements.map((s) => s.kind),
        ).not.toContain('Unparsed')
      }
    }
  })
})
