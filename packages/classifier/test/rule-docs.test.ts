/**
 * docs/rules/<id>.md for every tier rule is generated from the rule itself and its test cases, so
 * the pages cannot drift from the code. Run with UPDATE_RULE_DOCS=1 to rewrite them.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { allRules, classify, init } from '@ddl/classifier'
import { beforeAll, describe, expect, it } from 'vitest'
import { cases } from './rule-cases.js'

const docsDir = resolve(import.meta.dirname, '../../../docs/rules')
const update = process.env.UPDATE_RULE_DOCS === '1'

beforeAll(async () => {
  await init()
})

function page(id: string): string {
  const rule = allRules.find((r) => r.id === id)
  if (rule === undefined) throw new Error(id)
  const example = cases[id]
  const finding =
    example !== undefined && example.fires !== ''
      ? classify(example.fires)
          ._unsafeUnwrap()
          .statements.flatMap((s) => s.verdict.findings)
          .find((f) => f.rule === id)
      : undefined
  const lines = [
    `# ${id}`,
    '',
    `Tier: **${rule.tier}**${rule.tier === 'cautious' ? ' (runs with `confirm: true`)' : rule.tier === 'destructive' ? ' (runs only with `iKnowWhatImDoing: true`)' : ''}. Reads: ${rule.kinds.length > 0 ? rule.kinds.map((k) => `\`${k}\``).join(', ') : 'reported by the engine'}.`,
    '',
    '## Problem',
    '',
    finding !== undefined ? finding.message : '(Reported by the engine; see the message in `ddl check` output.)',
    '',
    '## Safe alternative',
    '',
    finding !== undefined ? finding.hint : typeof rule.hint === 'string' ? rule.hint : '',
    '',
  ]
  if (example !== undefined && example.fires !== '') {
    lines.push('## Examples', '', 'Flagged:', '', '```sql', `${example.fires};`, '```', '')
  }
  if (example !== undefined && example.nearMiss !== '' && example.nearMiss !== example.fires) {
    lines.push('Not flagged by this rule:', '', '```sql', `${example.nearMiss};`, '```', '')
  }
  lines.push('Generated from the rule and its tests by `packages/classifier/test/rule-docs.test.ts`.', '')
  return lines.join('\n')
}

describe('rule pages', () => {
  for (const rule of allRules.filter((r) => r.hazard !== true)) {
    it(`docs/rules/${rule.id}.md matches the rule`, () => {
      const path = join(docsDir, `${rule.id}.md`)
      const expected = page(rule.id)
      if (update) {
        mkdirSync(docsDir, { recursive: true })
        writeFileSync(path, expected)
      }
      expect(existsSync(path), `${path} is missing: run UPDATE_RULE_DOCS=1 pnpm exec vitest run rule-docs`).toBe(true)
      expect(readFileSync(path, 'utf8')).toBe(expected)
    })
  }
})
