import { classify, compareTiers, init, maxTier, type Tier } from '@ddl/classifier'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'

beforeAll(async () => {
  await init()
})

const tierOf = (sql: string): Tier => classify(sql)._unsafeUnwrap().tier

/** Destructive and cautious statements, written token by token so they can be rewritten. */
const dangerous: ReadonlyArray<readonly string[]> = [
  ['DROP', 'TABLE', 'users'],
  ['DROP', 'SCHEMA', 'app', 'CASCADE'],
  ['DELETE', 'FROM', 'users'],
  ['DELETE', 'FROM', 'users', 'WHERE', '1', '=', '1'],
  ['UPDATE', 'users', 'SET', 'name', '=', "'x'"],
  ['TRUNCATE', 'sessions'],
  ['ALTER', 'TABLE', 'users', 'DROP', 'COLUMN', 'phone'],
  ['ALTER', 'TABLE', 'users', 'DROP', 'CONSTRAINT', 'users_pkey'],
  ['DELETE', 'FROM', 'users', 'WHERE', 'id', '=', '7'],
  ['SELECT', 'pg_terminate_backend', '(', '1', ')'],
  ['GRANT', 'SELECT', 'ON', 'users', 'TO', 'reader'],
]

const keywords = new Set([
  'DROP',
  'TABLE',
  'SCHEMA',
  'CASCADE',
  'DELETE',
  'FROM',
  'WHERE',
  'UPDATE',
  'SET',
  'TRUNCATE',
  'ALTER',
  'COLUMN',
  'CONSTRAINT',
  'SELECT',
  'GRANT',
  'ON',
  'TO',
])
const identifiers = new Set(['users', 'app', 'sessions', 'phone', 'users_pkey', 'name', 'id', 'reader'])

const separator = fc.constantFrom(' ', '\n', '\t', '  ', ' /* c */ ', ' -- c\n', '/**/', ' /* /* nested */ */ ')
const harmlessPrefix = fc.constantFrom(
  '',
  'SELECT 1; ',
  "COMMENT ON TABLE t IS 'x'; ",
  'CREATE TABLE ok (id int); ',
  '-- DROP\n',
)

const rewrite = (tokens: readonly string[]) =>
  fc
    .tuple(
      fc.array(fc.boolean(), { minLength: tokens.length, maxLength: tokens.length }),
      fc.array(fc.boolean(), { minLength: tokens.length, maxLength: tokens.length }),
      fc.array(separator, { minLength: tokens.length, maxLength: tokens.length }),
      harmlessPrefix,
      fc.boolean(),
    )
    .map(([lower, quote, seps, prefix, qualify]) => {
      const words = tokens.map((t, i) => {
        if (keywords.has(t)) return lower[i] ? t.toLowerCase() : t
        if (identifiers.has(t)) {
          const name = quote[i] ? `"${t}"` : t
          return qualify && (t === 'users' || t === 'sessions') ? `public.${name}` : name
        }
        return t
      })
      return prefix + words.map((w, i) => (i === 0 ? w : `${seps[i]}${w}`)).join('')
    })

describe('classifier invariants', () => {
  for (const tokens of dangerous) {
    const original = tokens.join(' ')
    it(`never lowers the tier of "${original}" under case, comments, whitespace, quoting, qualification or a harmless prefix`, () => {
      const base = tierOf(original)
      fc.assert(
        fc.property(rewrite(tokens), (sql) => {
          expect(compareTiers(tierOf(sql), base)).toBeGreaterThanOrEqual(0)
        }),
        { numRuns: 60 },
      )
    })
  }

  it('gives a script the highest tier of its statements, in any order', () => {
    const pool = ['CREATE TABLE a (x int)', 'TRUNCATE b', 'DROP TABLE c', 'SELECT 1', 'DELETE FROM d WHERE id = 1']
    fc.assert(
      fc.property(fc.shuffledSubarray(pool, { minLength: 1 }), (parts) => {
        const expected = parts.map(tierOf).reduce(maxTier, 'safe' as Tier)
        expect(tierOf(parts.join(';\n'))).toBe(expected)
      }),
    )
  })

  it('never calls text the parser rejects safe, and never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-composite', maxLength: 200 }), (text) => {
        const result = classify(text)
        if (result.isErr()) return
        for (const s of result.value.statements) if (s.kind === 'Unparsed') expect(s.verdict.tier).not.toBe('safe')
      }),
      { numRuns: 300 },
    )
  })

  it('cuts statements whose spans lie in the input, in order, without overlap, each text equal to its span', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.constantFrom(
            'SELECT 1',
            "SELECT ';'",
            'DROP TABLE t',
            'SELEC x',
            '/* ; */ SELECT 2',
            'SELECT $$;$$',
            '  ',
            'é',
          ),
          {
            maxLength: 8,
          },
        ),
        (parts) => {
          const sql = parts.join(';')
          const p = classify(sql)._unsafeUnwrap()
          let end = 0
          for (const s of p.statements) {
            expect(s.span.offset).toBeGreaterThanOrEqual(end)
            expect(sql.slice(s.span.offset, s.span.offset + s.span.length)).toBe(s.text)
            end = s.span.offset + s.span.length
          }
        },
      ),
    )
  })
})
