import type { ClassifiedStatement, Finding, Plan, Tier } from '@ddl/classifier'
import pc from 'picocolors'
import { describe, expect, it } from 'vitest'
import { escapeData, escapeProperty, githubReporter } from '../src/format/github.js'
import { jsonReporter } from '../src/format/json.js'
import type { CheckedFile, RunSummary } from '../src/format/report.js'
import { sarifLevel, sarifReporter } from '../src/format/sarif.js'
import { codeFrame, renderSummary, textReporter } from '../src/format/text.js'

const plain = pc.createColors(false)

/** A hand-built statement at `offset` of `source` (the formats only read these fields). */
function statement(
  source: string,
  text: string,
  findings: readonly Finding[],
  extra: Partial<ClassifiedStatement> = {},
): ClassifiedStatement {
  const offset = source.indexOf(text)
  const before = source.slice(0, offset)
  const line = before.split('\n').length
  const column = offset - (before.lastIndexOf('\n') + 1) + 1
  const tier = findings.reduce<Tier>(
    (t, f) =>
      f.tier === 'destructive' || t === 'destructive' ? 'destructive' : f.tier === 'cautious' ? 'cautious' : t,
    'safe',
  )
  return {
    text,
    span: { offset, length: text.length, line, column },
    kind: 'Unparsed',
    ast: undefined,
    verdict: {
      tier,
      findings,
      targets: [],
      transactional: true,
      transactionControl: null,
      lock: null,
      rewrite: false,
      scan: false,
    },
    ...extra,
  } as ClassifiedStatement
}

const drop: Finding = {
  rule: 'drop-table',
  tier: 'destructive',
  severity: 'error',
  message:
    'DROP TABLE t deletes the table and all its rows; once committed, only ddl undo of a run that kept it brings it back.',
  hint: 'Back it up, then drop it.',
}
const hazard: Finding = {
  rule: 'add-index-without-concurrently',
  tier: 'safe',
  severity: 'warning',
  message: 'CREATE INDEX blocks writes to t until the build ends.',
  hint: 'Use CREATE INDEX CONCURRENTLY.',
}

function checked(source: string, statements: ClassifiedStatement[], path = 'db/x.sql'): CheckedFile {
  const plan: Plan = {
    statements,
    tier: statements.some((s) => s.verdict.tier === 'destructive') ? 'destructive' : 'safe',
    requires: 'none',
    hasParseErrors: statements.some((s) => s.parseError !== undefined),
  }
  return { path, uri: path, source, plan }
}

const summary: RunSummary = {
  files: 1,
  statements: 2,
  byTier: { safe: 1, cautious: 0, destructive: 1 },
  unparsed: 0,
  tier: 'destructive',
  failOn: 'destructive',
  failed: true,
  unreadable: 0,
}

function collect(): { write: (s: string) => void; text: () => string } {
  const parts: string[] = []
  return { write: (s) => parts.push(s), text: () => parts.join('') }
}

describe('text format', () => {
  it('prints each finding with its hint and a code frame, hazards labelled HAZARD', () => {
    const source = 'CREATE INDEX i ON t (x);\n\tDROP TABLE t;\n'
    const out = collect()
    const reporter = textReporter(out.write, plain)
    reporter.file(
      checked(source, [
        statement(source, 'CREATE INDEX i ON t (x)', [hazard]),
        statement(source, 'DROP TABLE t', [drop]),
      ]),
    )
    reporter.end(summary)
    expect(out.text()).toMatchInlineSnapshot(`
      "db/x.sql:1:1  HAZARD  add-index-without-concurrently  CREATE INDEX blocks writes to t until the build ends.
        hint: Use CREATE INDEX CONCURRENTLY.
        1 | CREATE INDEX i ON t (x);
          | ^

      db/x.sql:2:2  DESTRUCTIVE  drop-table  DROP TABLE t deletes the table and all its rows; once committed, only ddl undo of a run that kept it brings it back.
        hint: Back it up, then drop it.
        2 | 	DROP TABLE t;
          | 	^

      1 file, 2 statements: 1 safe, 0 cautious, 1 destructive. Fails: destructive is at or above --fail-on destructive.
      "
    `)
  })

  it('shows at most three lines and puts the caret on a parse error further down', () => {
    const source = 'SELECT 1;\nALTER TABLE t\n  ADD COLUMN x int\n  ADD oops;\nSELECT 2;'
    const text = 'ALTER TABLE t\n  ADD COLUMN x int\n  ADD oops'
    const s = statement(source, text, [drop], {
      parseError: { message: 'syntax error at or near "ADD"', line: 4, column: 3 },
    })
    expect(codeFrame(source, s, plain)).toBe(
      '  2 | ALTER TABLE t\n  3 |   ADD COLUMN x int\n  4 |   ADD oops;\n    |   ^\n',
    )
  })

  it('cuts a very long line around the caret', () => {
    const source = `${'x'.repeat(300)} DROP TABLE t;`
    const frame = codeFrame(source, statement(source, 'DROP TABLE t', [drop]), plain)
    const [shown, caret] = frame.split('\n')
    expect(shown?.length).toBeLessThan(140)
    expect(shown).toContain('…')
    expect(shown?.indexOf('DROP')).toBe(caret?.indexOf('^'))
  })

  it('reads CRLF line ends without showing the carriage return', () => {
    const source = 'SELECT 1;\r\nDROP TABLE t;\r\n'
    expect(codeFrame(source, statement(source, 'DROP TABLE t', [drop]), plain)).toBe('  2 | DROP TABLE t;\n    | ^\n')
  })

  it('says how many files could not be checked', () => {
    expect(renderSummary({ ...summary, unreadable: 2 }, plain)).toContain(
      'Fails: destructive is at or above --fail-on destructive. 2 files could not be checked (exit 2): see the errors on stderr.\n',
    )
  })

  it('summarises a passing run and says when statements could not be parsed', () => {
    expect(
      renderSummary({ ...summary, failed: false, failOn: 'never', unparsed: 1, files: 2, statements: 1 }, plain),
    ).toBe(
      '2 files, 1 statement: 1 safe, 0 cautious, 1 destructive (1 could not be parsed). Passes (--fail-on never).\n',
    )
  })
})

describe('json format', () => {
  it('is one document, even with no files', () => {
    const out = collect()
    const reporter = jsonReporter(out.write)
    reporter.end(summary)
    expect(JSON.parse(out.text())).toEqual({ version: 1, files: [] })
  })

  it('streams a file per line inside one document', () => {
    const source = 'DROP TABLE t'
    const out = collect()
    const reporter = jsonReporter(out.write)
    reporter.file(checked(source, [statement(source, source, [drop])], 'a.sql'))
    reporter.file(checked(source, [statement(source, source, [drop])], 'b.sql'))
    reporter.end(summary)
    expect(out.text().split('\n')).toHaveLength(5)
    const report = JSON.parse(out.text())
    expect(report.files.map((f: { path: string }) => f.path)).toEqual(['a.sql', 'b.sql'])
    expect(report.files[0].statements[0]).toEqual({
      line: 1,
      column: 1,
      offset: 0,
      length: 12,
      text: 'DROP TABLE t',
      kind: 'Unparsed',
      tier: 'destructive',
      lock: null,
      rewrite: false,
      scan: false,
      transactional: true,
      transactionControl: null,
      targets: [],
      findings: [drop],
    })
  })
})

describe('sarif format', () => {
  it('maps tiers to levels', () => {
    expect([sarifLevel('destructive'), sarifLevel('cautious'), sarifLevel('safe')]).toEqual([
      'error',
      'warning',
      'note',
    ])
  })

  it('lists each rule once and points results at it', () => {
    const source = 'CREATE INDEX i ON t (x); DROP TABLE t; DROP TABLE u'
    const out = collect()
    const reporter = sarifReporter(out.write)
    reporter.file(
      checked(source, [
        statement(source, 'CREATE INDEX i ON t (x)', [hazard]),
        statement(source, 'DROP TABLE t', [drop]),
        statement(source, 'DROP TABLE u', [drop]),
      ]),
    )
    reporter.end(summary)
    const run = JSON.parse(out.text()).runs[0]
    expect(
      run.tool.driver.rules.map((r: { id: string; defaultConfiguration: { level: string } }) => [
        r.id,
        r.defaultConfiguration.level,
      ]),
    ).toEqual([
      ['add-index-without-concurrently', 'note'],
      ['drop-table', 'error'],
    ])
    expect(run.results.map((r: { ruleIndex: number; level: string }) => [r.ruleIndex, r.level])).toEqual([
      [0, 'note'],
      [1, 'error'],
      [1, 'error'],
    ])
    expect(run.results[2].locations[0].physicalLocation.region).toEqual({ startLine: 1, startColumn: 40 })
  })
})

describe('github format', () => {
  it('escapes data and properties as the Actions toolkit does', () => {
    expect(escapeData('100% sure\r\nnext: a, b')).toBe('100%25 sure%0D%0Anext: a, b')
    expect(escapeProperty('dir:a,b%.sql')).toBe('dir%3Aa%2Cb%25.sql')
  })

  it('writes error, warning and notice commands by tier', () => {
    const source = 'CREATE INDEX i ON t (x); DROP TABLE t'
    const out = collect()
    const reporter = githubReporter(out.write, () => 'summary\n')
    reporter.file(
      checked(source, [
        statement(source, 'CREATE INDEX i ON t (x)', [hazard]),
        statement(source, 'DROP TABLE t', [drop]),
      ]),
    )
    reporter.end(summary)
    expect(out.text()).toBe(
      '::notice file=db/x.sql,line=1,col=1,title=add-index-without-concurrently (hazard)::CREATE INDEX blocks writes to t until the build ends.%0Ahint: Use CREATE INDEX CONCURRENTLY.\n' +
        '::error file=db/x.sql,line=1,col=26,title=drop-table (destructive)::DROP TABLE t deletes the table and all its rows; once committed, only ddl undo of a run that kept it brings it back.%0Ahint: Back it up, then drop it.\n' +
        'summary\n',
    )
  })
})
