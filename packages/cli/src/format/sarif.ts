import { readFileSync } from 'node:fs'
import { allRules, type Finding, type Tier } from '@ddl/classifier'
import type { CheckedFile, Reporter } from './report.js'

const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string
  homepage?: string
}

/** Where people learn about the tool: the CLI package's `homepage`, else its npm page. */
const INFORMATION_URI = manifest.homepage ?? 'https://www.npmjs.com/package/@ddl/cli'

type Level = 'error' | 'warning' | 'note'

/** destructive → error, cautious → warning, safe (hazards) → note. */
export function sarifLevel(tier: Tier): Level {
  return tier === 'destructive' ? 'error' : tier === 'cautious' ? 'warning' : 'note'
}

/** The tier of each known rule, and of the token fallback's two rules. */
const ruleTiers: ReadonlyMap<string, Tier> = new Map<string, Tier>([
  ...allRules.map((rule): [string, Tier] => [rule.id, rule.tier]),
  ['unparsed-statement', 'cautious'],
  ['unparsed-destructive', 'destructive'],
])

const ruleHints: ReadonlyMap<string, string> = new Map(
  allRules.flatMap((rule): [string, string][] => (typeof rule.hint === 'string' ? [[rule.id, rule.hint]] : [])),
)

interface SarifRule {
  readonly id: string
  readonly name: string
  readonly shortDescription: { readonly text: string }
  readonly help?: { readonly text: string }
  readonly helpUri: string
  readonly defaultConfiguration: { readonly level: Level }
  readonly properties: { readonly tier: Tier }
}

interface SarifResult {
  readonly ruleId: string
  readonly ruleIndex: number
  readonly level: Level
  readonly message: { readonly text: string }
  readonly locations: readonly [
    {
      readonly physicalLocation: {
        readonly artifactLocation: { readonly uri: string }
        readonly region: { readonly startLine: number; readonly startColumn: number }
      }
    },
  ]
  readonly properties: { readonly tier: Tier; readonly statementTier: Tier; readonly kind: string }
  /** SARIF's in-source suppression: a `-- ddl:ignore` comment, with its reason as the justification. */
  readonly suppressions?: readonly { readonly kind: 'inSource'; readonly justification: string }[]
}

/** `drop-table` → `DropTable` (SARIF's `name` is a readable identifier). */
function ruleName(id: string): string {
  return id
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('')
}

function sarifRule(id: string, finding: Finding): SarifRule {
  const tier = ruleTiers.get(id) ?? finding.tier
  const hint = ruleHints.get(id)
  const words = id.replaceAll('-', ' ')
  return {
    id,
    name: ruleName(id),
    shortDescription: {
      text: `${words.charAt(0).toUpperCase()}${words.slice(1)} (${tier === 'safe' ? 'hazard' : tier}).`,
    },
    ...(hint === undefined ? {} : { help: { text: hint } }),
    helpUri: `docs/rules/${id}.md`,
    defaultConfiguration: { level: sarifLevel(tier) },
    properties: { tier },
  }
}

/**
 * SARIF 2.1.0, the format code-scanning tools read (GitHub code scanning, IDEs): one result per
 * finding, at the statement's line and column, with the metadata of every rule that fired.
 */
export function sarifReporter(write: (text: string) => void): Reporter {
  const rules: SarifRule[] = []
  const index = new Map<string, number>()
  const results: SarifResult[] = []
  return {
    file(file: CheckedFile) {
      for (const statement of file.plan.statements) {
        const silenced = (file.suppressed?.get(statement) ?? []).map((s) => ({ finding: s.finding, reason: s.reason }))
        const all = [
          ...statement.verdict.findings.map((finding) => ({ finding, reason: undefined as string | undefined })),
          ...silenced,
        ]
        for (const { finding, reason } of all) {
          let ruleIndex = index.get(finding.rule)
          if (ruleIndex === undefined) {
            ruleIndex = rules.push(sarifRule(finding.rule, finding)) - 1
            index.set(finding.rule, ruleIndex)
          }
          let text = `${finding.message} Hint: ${finding.hint}`
          const error = statement.parseError
          if (error !== undefined) text += ` Parse error: ${error.message} (${error.line}:${error.column}).`
          const lowered = finding.lowered
          if (lowered !== undefined) {
            text += ` Lowered by policy ${lowered.policyHash ?? ''} from ${lowered.from} to ${lowered.to}.`
          }
          results.push({
            ruleId: finding.rule,
            ruleIndex,
            level: sarifLevel(finding.tier),
            message: { text },
            locations: [
              {
                physicalLocation: {
                  artifactLocation: { uri: file.uri },
                  region: { startLine: statement.span.line, startColumn: statement.span.column },
                },
              },
            ],
            properties: {
              tier: finding.tier,
              statementTier: statement.verdict.tier,
              kind: statement.kind,
              ...(lowered !== undefined ? { lowered } : {}),
            },
            ...(reason === undefined ? {} : { suppressions: [{ kind: 'inSource' as const, justification: reason }] }),
          })
        }
      }
    },
    end() {
      const log = {
        $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
        version: '2.1.0',
        runs: [
          {
            tool: {
              driver: {
                name: 'safe-ddl',
                version: manifest.version,
                semanticVersion: manifest.version,
                informationUri: INFORMATION_URI,
                rules,
              },
            },
            results,
          },
        ],
      }
      write(`${JSON.stringify(log, null, 2)}\n`)
    },
  }
}
