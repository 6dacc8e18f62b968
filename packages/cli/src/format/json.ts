import type { ClassifiedStatement, Finding, LockMode, StatementParseError, Tier } from '@ddl/classifier'
import type { Suppression } from '../ignores.js'
import type { CheckedFile, Reporter } from './report.js'

/** The version of the JSON report; it changes only when a field is removed or changes meaning. */
export const JSON_REPORT_VERSION = 1

/** One statement in the JSON report (documented in docs/cli/check.md). */
export interface JsonStatement {
  /** 1-based line and column, and 0-based UTF-16 offset and length, of the statement in the file. */
  readonly line: number
  readonly column: number
  readonly offset: number
  readonly length: number
  /** The exact text that is classified and would be sent (no trailing `;`). */
  readonly text: string
  /** The parse node type (`DropStmt`, ...) or `Unparsed`. */
  readonly kind: string
  readonly tier: Tier
  readonly lock: LockMode | null
  readonly rewrite: boolean
  readonly scan: boolean
  readonly transactional: boolean
  readonly transactionControl: string | null
  readonly targets: readonly string[]
  readonly findings: readonly Pick<Finding, 'rule' | 'tier' | 'severity' | 'message' | 'hint' | 'lowered'>[]
  readonly parseError?: StatementParseError
  /** Hazard findings a `-- ddl:ignore <rule> <reason>` comment silenced, with the reason (absent when none). */
  readonly suppressed?: readonly {
    readonly rule: string
    readonly severity: Finding['severity']
    readonly message: string
    readonly reason: string
    readonly line: number
  }[]
}

/** One file in the JSON report. */
export interface JsonFile {
  readonly path: string
  readonly tier: Tier
  readonly statements: readonly JsonStatement[]
}

/** The JSON report: `{ "version": 1, "files": [...] }`. */
export interface JsonReport {
  readonly version: typeof JSON_REPORT_VERSION
  readonly files: readonly JsonFile[]
}

export function jsonStatement(statement: ClassifiedStatement, suppressed?: readonly Suppression[]): JsonStatement {
  const { verdict, span, parseError } = statement
  return {
    line: span.line,
    column: span.column,
    offset: span.offset,
    length: span.length,
    text: statement.text,
    kind: statement.kind,
    tier: verdict.tier,
    lock: verdict.lock,
    rewrite: verdict.rewrite,
    scan: verdict.scan,
    transactional: verdict.transactional,
    transactionControl: verdict.transactionControl,
    targets: verdict.targets,
    findings: verdict.findings.map(({ rule, tier, severity, message, hint, lowered }) => ({
      rule,
      tier,
      severity,
      message,
      hint,
      ...(lowered !== undefined ? { lowered } : {}),
    })),
    ...(parseError === undefined
      ? {}
      : { parseError: { message: parseError.message, line: parseError.line, column: parseError.column } }),
    ...(suppressed === undefined || suppressed.length === 0
      ? {}
      : {
          suppressed: suppressed.map(({ finding, reason, line }) => ({
            rule: finding.rule,
            severity: finding.severity,
            message: finding.message,
            reason,
            line,
          })),
        }),
  }
}

export function jsonFile(file: CheckedFile): JsonFile {
  return {
    path: file.path,
    tier: file.plan.tier,
    statements: file.plan.statements.map((s) => jsonStatement(s, file.suppressed?.get(s))),
  }
}

/**
 * The versioned JSON format, streamed: one file object per line inside `{"version":1,"files":[ ... ]}`,
 * so a large run never holds every file in memory. The whole output is one JSON document.
 */
export function jsonReporter(write: (text: string) => void): Reporter {
  let first = true
  return {
    file(file) {
      write(`${first ? `{"version":${JSON_REPORT_VERSION},"files":[\n` : ',\n'}${JSON.stringify(jsonFile(file))}`)
      first = false
    },
    end() {
      write(first ? `{"version":${JSON_REPORT_VERSION},"files":[]}\n` : '\n]}\n')
    },
  }
}
