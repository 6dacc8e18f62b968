import fc from 'fast-check'
import { loadModule, scanSync } from 'libpg-query'
import { beforeAll, describe, expect, it } from 'vitest'
import { type Piece, splitStatements, type Token, tokenize } from '../src/lexer.js'

const texts = (sql: string) => splitStatements(sql).map((p) => sql.slice(p.start, p.end))
const show = (sql: string) => tokenize(sql).map((t) => `${t.type}:${sql.slice(t.start, t.end)}`)

describe('tokenize', () => {
  it('reads words, numbers, operators and punctuation', () => {
    expect(show('SELECT a.b::int, $1 + 1.5e3 FROM t WHERE x <> y')).toEqual([
      'word:SELECT',
      'word:a',
      'punct:.',
      'word:b',
      'operator:::',
      'word:int',
      'punct:,',
      'param:$1',
      'operator:+',
      'number:1.5e3',
      'word:FROM',
      'word:t',
      'word:WHERE',
      'word:x',
      'operator:<>',
      'word:y',
    ])
  })

  it("reads '' inside a standard string and leaves backslash alone", () => {
    expect(show("select 'it''s', 'a\\'; x")).toEqual([
      'word:select',
      "string:'it''s'",
      'punct:,',
      "string:'a\\'",
      'semicolon:;',
      'word:x',
    ])
  })

  it('reads backslash escapes in E strings, either case', () => {
    expect(show("E'a\\';b' e'\\\\' ;")).toEqual(["string:E'a\\';b'", "string:e'\\\\'", 'semicolon:;'])
  })

  it('reads U&, B and X strings and U& identifiers; N is a word then a string, as Postgres scans it', () => {
    expect(show(`U&'d\\0061t' B'101' X'ff' U&"a""b" N'x'`)).toEqual([
      "string:U&'d\\0061t'",
      "string:B'101'",
      "string:X'ff'",
      'quoted-ident:U&"a""b"',
      'word:N',
      "string:'x'",
    ])
  })

  it('ends a bit string at its first quote', () => {
    expect(show("B'1''0'")).toEqual(["string:B'1'", "string:'0'"])
  })

  it('joins string literals separated by a newline, keeping the first part escape rules', () => {
    expect(show("E'a'\n  'b\\';c' ;")).toEqual(["string:E'a'\n  'b\\';c'", 'semicolon:;'])
    expect(show("'a' -- note\n-- more\n'b'")).toEqual(["string:'a' -- note\n-- more\n'b'"])
    expect(show("'a' 'b'")).toEqual(["string:'a'", "string:'b'"])
    expect(show("'a' /* c */\n'b'")).toEqual(["string:'a'", 'comment:/* c */', "string:'b'"])
  })

  it('reads dollar quotes by tag, and tells them from parameters and identifiers', () => {
    expect(show('$$a;b$$ $fn$ $$ ; $fn$ $1 x$y$ $ 1$q$;$q$')).toEqual([
      'dollar-string:$$a;b$$',
      'dollar-string:$fn$ $$ ; $fn$',
      'param:$1',
      'word:x$y$',
      'punct:$',
      'number:1',
      'dollar-string:$q$;$q$',
    ])
    expect(show('$a$ $b$ x $a$')).toEqual(['dollar-string:$a$ $b$ x $a$'])
  })

  it('reads quoted identifiers with ""', () => {
    expect(show('"a"";b" ;')).toEqual(['quoted-ident:"a"";b"', 'semicolon:;'])
  })

  it('reads line comments to the end of the line and nests block comments', () => {
    expect(show('a -- x; y\nb /* 1 /* 2; */ 3; */ c')).toEqual([
      'word:a',
      'comment:-- x; y',
      'word:b',
      'comment:/* 1 /* 2; */ 3; */',
      'word:c',
    ])
  })

  it('stops an operator where a comment starts, and drops a trailing + or - from SQL operators', () => {
    expect(show('a +--x\n b */* c */ d =- e ?- f')).toEqual([
      'word:a',
      'operator:+',
      'comment:--x',
      'word:b',
      'operator:*',
      'comment:/* c */',
      'word:d',
      'operator:=',
      'operator:-',
      'word:e',
      'operator:?-',
      'word:f',
    ])
  })

  it('keeps trailing junk after a number in one token without throwing', () => {
    expect(show('123abc 0x1F 1..2 .5 1e+')).toEqual([
      'number:123abc',
      'number:0x1F',
      'number:1',
      'operator:..',
      'number:2',
      'number:.5',
      'number:1e',
      'operator:+',
    ])
  })

  it('turns an unterminated string, identifier, dollar quote or comment into one token to the end', () => {
    for (const tail of ["'abc; drop", "E'ab\\'; x", '"ab; c', '$x$ ; drop', '/* a /* b */ ; drop', "B'01"]) {
      const sql = `select 1; select ${tail}`
      const tokens = tokenize(sql)
      expect(tokens.at(-1)).toEqual({ type: 'unterminated', start: 17, end: sql.length })
      expect(texts(sql)).toEqual(['select 1', `select ${tail}`])
    }
  })

  it('treats non-ASCII characters as identifier characters', () => {
    expect(show('café\u00a0x ; ö')).toEqual(['word:café\u00a0x', 'semicolon:;', 'word:ö'])
  })
})

describe('splitStatements', () => {
  it('cuts at top-level semicolons only', () => {
    const sql = `create table t (x text default ';');
      -- a comment; not a cut
      insert into t values ($$;$$), (E'\\';'), ("a;b");
      do $body$ begin perform 1; end $body$;`
    expect(texts(sql)).toEqual([
      "create table t (x text default ';')",
      "insert into t values ($$;$$), (E'\\';'), (\"a;b\")",
      'do $body$ begin perform 1; end $body$',
    ])
  })

  it('drops empty statements and stretches of only comments', () => {
    expect(texts(';; /* only */ ; -- end\n')).toEqual([])
    expect(texts('select 1 ;;; select 2')).toEqual(['select 1', 'select 2'])
  })

  it('keeps comments inside a statement and before its semicolon, and drops those before it', () => {
    expect(texts('/* lead */ select /* mid */ 1 -- tail\n; -- next\n select 2 -- last')).toEqual([
      'select /* mid */ 1 -- tail',
      'select 2 -- last',
    ])
  })

  it('with { psql: true }, keeps parenthesised rule actions and BEGIN ATOMIC bodies whole', () => {
    const sql = `create rule r as on insert to t do also (insert into a values (1); delete from b);
      create or replace function f() returns int language sql
      begin atomic
        select case when true then 1 end;
        select 2;
      end;
      create procedure p() begin atomic insert into a values (1); end;
      select 1`
    expect(texts(sql).length).toBe(8)
    const psql = splitStatements(sql, { psql: true }).map((p) => sql.slice(p.start, p.end))
    expect(psql.map((t) => t.split(/\s+/).slice(0, 3).join(' '))).toEqual([
      'create rule r',
      'create or replace',
      'create procedure p()',
      'select 1',
    ])
    expect(psql[1]?.endsWith('end')).toBe(true)
  })

  it('with { psql: true }, tracks BEGIN only in CREATE FUNCTION or PROCEDURE, outside parentheses', () => {
    const sql = 'begin; select 1; end; create function f(begin int) returns int as $$ begin $$ language sql; select 2'
    expect(splitStatements(sql, { psql: true })).toEqual(splitStatements(sql))
  })

  it('with { psql: true }, joins statements after an unclosed parenthesis (the engine re-splits what fails)', () => {
    expect(texts('select (1; drop table t; select 2').length).toBe(3)
    expect(splitStatements('select (1; drop table t; select 2', { psql: true })).toHaveLength(1)
  })

  it('returns nothing for empty or blank input', () => {
    expect(splitStatements('')).toEqual([])
    expect(splitStatements(' \n\t\v\f\r')).toEqual([])
  })
})

// Fragments that exercise every scanner state and every boundary between them.
const fragment = fc.constantFrom(
  "'",
  "''",
  '"',
  '$$',
  '$a$',
  '$b$',
  '$',
  '$1',
  '--',
  '/*',
  '*/',
  ';',
  '\n',
  '\r',
  ' ',
  '\t',
  '\v',
  "E'",
  "e'",
  "B'",
  "X'",
  "N'",
  "U&'",
  'U&"',
  'u&',
  '\\',
  "\\'",
  'a',
  'e',
  'x',
  'u',
  '1',
  '1.',
  '.',
  '1e',
  '+',
  '-',
  '*',
  '/',
  '=',
  '<',
  '!',
  '?',
  '~',
  ':',
  '(',
  ',',
  '_',
  'é',
  '😀',
  'select',
  '1a',
  'x$y$',
)
const sqlish = fc.array(fragment, { maxLength: 30 }).map((parts) => parts.join(''))
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), sqlish)

function isWhitespace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v'
}

function covered(tokens: readonly Token[], length: number): Uint8Array {
  const mask = new Uint8Array(length)
  for (const t of tokens) mask.fill(1, t.start, t.end)
  return mask
}

describe('lexer properties', () => {
  it('tokenize and splitStatements never throw, on any text', () => {
    fc.assert(
      fc.property(anyText, (sql) => {
        tokenize(sql)
        splitStatements(sql)
      }),
      { numRuns: 3000 },
    )
  })

  it('tokens are in order, non-empty, non-overlapping, and cover every non-whitespace character', () => {
    fc.assert(
      fc.property(anyText, (sql) => {
        const tokens = tokenize(sql)
        let previous = 0
        for (const t of tokens) {
          expect(t.start).toBeGreaterThanOrEqual(previous)
          expect(t.end).toBeGreaterThan(t.start)
          expect(t.end).toBeLessThanOrEqual(sql.length)
          for (let i = previous; i < t.start; i++) expect(isWhitespace(sql.charAt(i))).toBe(true)
          previous = t.end
        }
        for (let i = previous; i < sql.length; i++) expect(isWhitespace(sql.charAt(i))).toBe(true)
        expect(covered(tokens, sql.length).every((m, i) => m === 1 || isWhitespace(sql.charAt(i)))).toBe(true)
      }),
      { numRuns: 3000 },
    )
  })

  it('pieces are in order, non-overlapping, trimmed, and hold no top-level semicolon, on any text', () => {
    fc.assert(
      fc.property(anyText, (sql) => {
        const pieces = splitStatements(sql)
        const tokens = tokenize(sql)
        let previous = 0
        for (const p of pieces) {
          expect(p.start).toBeGreaterThanOrEqual(previous)
          expect(p.end).toBeGreaterThan(p.start)
          expect(isWhitespace(sql.charAt(p.start))).toBe(false)
          const inside = tokens.filter((t) => t.start >= p.start && t.end <= p.end)
          // An unterminated token runs to the end of the input, whitespace included.
          if (inside.at(-1)?.type !== 'unterminated') expect(isWhitespace(sql.charAt(p.end - 1))).toBe(false)
          expect(inside.some((t) => t.type === 'semicolon')).toBe(false)
          expect(inside.some((t) => t.type !== 'comment')).toBe(true)
          previous = p.end
        }
      }),
      { numRuns: 3000 },
    )
  })

  it('with { psql: true }, every piece is a run of whole pieces of the default cut, on any text', () => {
    fc.assert(
      fc.property(anyText, (sql) => {
        const scan = splitStatements(sql)
        const starts = new Set(scan.map((p) => p.start))
        // A psql piece ends where a default piece ends, or after a `;` it did not cut at, or after
        // a comment that follows such a `;` (pieces keep trailing comments: "(;--" is one piece).
        const kept = tokenize(sql).filter((t) => t.type === 'semicolon' || t.type === 'comment')
        const ends = new Set([...scan.map((p) => p.end), ...kept.map((t) => t.end)])
        for (const p of splitStatements(sql, { psql: true })) {
          expect(starts.has(p.start)).toBe(true)
          expect(ends.has(p.end)).toBe(true)
        }
      }),
      { numRuns: 3000, examples: [['(;--']] },
    )
  })

  // A statement whose payload (any text) sits inside a string, identifier, dollar quote or comment.
  const wrapped = fc
    .tuple(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom('standard', 'extended', 'ident', 'dollar', 'block', 'line'),
    )
    .map(([payload, how]) => {
      switch (how) {
        case 'standard':
          return `select '${payload.replaceAll("'", "''")}'`
        case 'extended':
          return `select E'${payload.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`
        case 'ident':
          return `select "${payload.replaceAll('"', '""')}"`
        case 'dollar':
          return `select $q$${payload.replaceAll('$q$', '')}$q$`
        case 'block':
          return `select 1 /* ${payload.replaceAll('*/', '').replaceAll('/*', '')} */ + 1`
        default:
          return `select 1 -- ${payload.replaceAll('\n', '').replaceAll('\r', '')}\n + 1`
      }
    })

  it('a semicolon inside a string, identifier, dollar quote or comment never cuts', () => {
    fc.assert(
      fc.property(fc.array(wrapped, { minLength: 1, maxLength: 5 }), (statements) => {
        const sql = `${statements.join(';\n')};`
        expect(texts(sql)).toEqual(statements)
      }),
      { numRuns: 3000 },
    )
  })
})

describe('agreement with the Postgres scanner on random SQL-like text', () => {
  beforeAll(async () => {
    await loadModule()
  })

  function scannerTokens(sql: string): Array<[number, number]> | undefined {
    const bytes = Buffer.from(sql, 'utf8')
    const toUtf16 = (byte: number) => bytes.subarray(0, byte).toString('utf8').length
    try {
      return scanSync(sql).tokens.map((t) => [toUtf16(t.start), toUtf16(t.end)])
    } catch {
      return undefined
    }
  }

  it('finds the same token extents as libpg-query scanSync wherever it does not throw', () => {
    let compared = 0
    fc.assert(
      fc.property(sqlish, (sql) => {
        const theirs = scannerTokens(sql)
        if (theirs === undefined) return
        compared++
        expect(tokenize(sql).map((t) => [t.start, t.end])).toEqual(theirs)
      }),
      { numRuns: 4000 },
    )
    expect(compared).toBeGreaterThan(500)
  })

  it('cuts where the scanner cuts wherever it does not throw', () => {
    fc.assert(
      fc.property(sqlish, (sql) => {
        const theirs = scannerTokens(sql)
        if (theirs === undefined) return
        const tokens = scanSync(sql).tokens
        const pieces: Piece[] = []
        let start = -1
        let end = -1
        tokens.forEach((t, i) => {
          const [s, e] = theirs[i] ?? [0, 0]
          if (t.tokenName === 'ASCII_59') {
            if (start >= 0) pieces.push({ start, end })
            start = -1
          } else {
            const comment = t.tokenName === 'SQL_COMMENT' || t.tokenName === 'C_COMMENT'
            if (start < 0 && !comment) start = s
            if (start >= 0) {
              end = e
              while (comment && end > 0 && ' \t\v\f'.includes(sql.charAt(end - 1))) end--
            }
          }
        })
        if (start >= 0) pieces.push({ start, end })
        expect(splitStatements(sql)).toEqual(pieces)
      }),
      { numRuns: 4000 },
    )
  })
})
