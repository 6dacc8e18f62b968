import { allRules, type ClassifyOptions, classify, init, type Plan } from '@ddl/classifier'
import { beforeAll, describe, expect, it } from 'vitest'
import { caseOptions, cases } from './rule-cases.js'

beforeAll(async () => {
  await init()
})

function plan(sql: string, options: ClassifyOptions = {}): Plan {
  return classify(sql, options)._unsafeUnwrap()
}

function rulesOf(sql: string, options: ClassifyOptions = {}): string[] {
  return plan(sql, options).statements.flatMap((s) => s.verdict.findings.map((f) => f.rule))
}

/** Rules that only record state or are reported by the engine and have no standalone firing SQL. */
const silent = new Set(['function-body', 'prepare', 'unknown-statement'])

describe('every rule', () => {
  it('has a firing case and a near miss', () => {
    for (const rule of allRules) expect(cases, rule.id).toHaveProperty(rule.id)
  })

  for (const [id, { fires, nearMiss }] of Object.entries(cases)) {
    if (!silent.has(id)) {
      it(`${id} fires on: ${fires}`, () => {
        expect(rulesOf(fires, caseOptions(id))).toContain(id)
      })
    }
    if (id === 'drop-owned') continue
    it(`${id} does not fire on: ${nearMiss}`, () => {
      expect(rulesOf(nearMiss, caseOptions(id))).not.toContain(id)
    })
  }
})

describe('rendered findings', () => {
  it('renders drop-table as the style guide words it', () => {
    const f = plan('DROP TABLE orders').statements[0]?.verdict.findings[0]
    expect(f).toMatchInlineSnapshot(`
      {
        "hint": "1. Stop using \`orders\` in the app and deploy. 2. Rename it to \`orders_retired\` and wait a release. 3. Back it up, then drop it.",
        "message": "DROP TABLE orders deletes the table and all its rows; once committed, only ddl undo of a run that kept it brings it back.",
        "rule": "drop-table",
        "severity": "error",
        "tier": "destructive",
      }
    `)
  })
})
