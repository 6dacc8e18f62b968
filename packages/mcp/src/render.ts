import { compareTiers, type Plan, type Tier } from '@ddl/classifier'
import {
  displayStatement,
  type ExecuteResult,
  effectLines,
  type RehearsalResult,
  type Row,
  type StatementRun,
} from '@ddl/executor'
import type { RequestedStatement } from './approval.js'

const TIER_NAME: Record<Tier, string> = { safe: 'SAFE', cautious: 'CAUTIOUS', destructive: 'DESTRUCTIVE' }

/**
 * A tier in capitals, as the rest of safe-ddl writes it. Never throws.
 *
 * @example
 * tierName('destructive') // 'DESTRUCTIVE'
 */
export function tierName(tier: Tier): string {
  return TIER_NAME[tier]
}

/**
 * The statements of a plan as an approval request shows them: line, redacted text, tier, findings.
 * Never throws. See {@link statementLines}.
 *
 * @example
 * requestedStatements(plan) // [{ line: 1, display: 'DROP TABLE t', kind: 'DropStmt', tier: 'destructive', findings: [...] }]
 */
export function requestedStatements(plan: Plan): RequestedStatement[] {
  return plan.statements.map((s) => ({
    line: s.span.line,
    display: displayStatement(s.text, 400),
    kind: s.kind,
    tier: s.verdict.tier,
    findings: s.verdict.findings,
  }))
}

/**
 * Statements with their tiers and findings, one block each:
 * `line 1 [DESTRUCTIVE] DROP TABLE t`, then each finding and its hint, indented. Never throws.
 *
 * @example
 * statementLines(requestedStatements(plan)).join('\n')
 * //   line 1 [DESTRUCTIVE] DROP TABLE t
 * //     drop-table: DROP TABLE t deletes the table and all its rows; ...
 */
export function statementLines(statements: readonly RequestedStatement[]): string[] {
  const lines: string[] = []
  for (const s of statements) {
    lines.push(`  line ${s.line} [${tierName(s.tier)}] ${s.display}`)
    for (const f of s.findings) {
      const raises = compareTiers(f.tier, 'safe') > 0
      lines.push(`    ${raises ? '' : `(${f.severity}) `}${f.rule}: ${f.message}`)
      if (f.hint !== '') lines.push(`    Hint: ${f.hint}`)
    }
  }
  return lines
}

/** The statements of an executed script, for a model: what ran, its tag, its row count. Never throws. */
export function executedLines(result: ExecuteResult, maxRows: number): string[] {
  const lines = [`${result.message}`]
  for (const s of result.statements) lines.push(`  ${runLine(s)}`)
  const withRows = result.statements.filter((s) => s.rows.length > 0)
  for (const s of withRows) {
    lines.push(`Rows returned by line ${s.line}:`)
    lines.push(...rowLines(s.rows, maxRows).map((l) => `  ${l}`))
  }
  for (const warning of result.warnings) lines.push(`Warning: ${warning}`)
  return lines
}

/** A statement that ran, with what the server said: `line 2: DELETE FROM t WHERE ... → DELETE, 3 rows`. */
export function runLine(s: StatementRun): string {
  const count = s.rowCount === null ? '' : `, ${s.rowCount} row${s.rowCount === 1 ? '' : 's'}`
  return `line ${s.line}: ${s.statement} → ${s.command ?? 'done'}${count}`
}

/** The statements of a run as plain data for `structuredContent`. Never throws. */
export function runData(statements: readonly StatementRun[], maxRows: number): Record<string, unknown>[] {
  return statements.map((s) => ({
    line: s.line,
    statement: s.statement,
    tier: s.tier,
    command: s.command,
    row_count: s.rowCount,
    ...(s.rows.length > 0 ? { rows: s.rows.slice(0, maxRows).map(plainRow) } : {}),
  }))
}

/**
 * What a rehearsal found, one fact a line: rows touched, tables emptied, dropped, cascaded to,
 * rewritten, locks taken. Never throws.
 */
export function rehearsalFacts(result: RehearsalResult): string[] {
  const facts: string[] = []
  for (const s of result.statements) {
    const head = `line ${s.line}: ${s.statement}`
    if (!s.rehearsed) {
      facts.push(`${head}: not rehearsed (${s.note ?? 'it cannot run in a transaction'})`)
      continue
    }
    const parts: string[] = []
    if (s.rowCount !== null && s.kind !== 'TruncateStmt') parts.push(`${s.command ?? 'rows'}: ${s.rowCount} rows`)
    for (const t of s.truncated) parts.push(`empties ${t.relation} (${t.rows} rows)`)
    if (s.dropped.length > 0) parts.push(`drops ${s.dropped.join(', ')}`)
    if (s.cascades.length > 0) parts.push(`CASCADE also takes ${s.cascades.join('; ')}`)
    if (s.rewritten.length > 0) parts.push(`rewrites ${s.rewritten.join(', ')}`)
    if (s.created.length > 0) parts.push(`creates ${s.created.join(', ')}`)
    if (s.locks.length > 0) parts.push(`locks ${s.locks.map((l) => `${l.relation} (${l.mode})`).join(', ')}`)
    facts.push(`${head}: ${parts.length > 0 ? parts.join('; ') : 'ran'}`)
  }
  const measured = effectLines(result.effects)
  if (measured.length > 0) facts.push(`measured by the server (triggers and cascades included): ${measured.join('; ')}`)
  if (result.effectTier !== result.tier && compareTiers(result.effectTier, result.tier) > 0) {
    facts.push(
      `the measured effects are ${result.effectTier.toUpperCase()}, more than the SQL text shows (${result.tier.toUpperCase()})`,
    )
  }
  for (const line of result.notUndone) facts.push(`not undone by the rollback: ${line}`)
  return facts
}

/** Rows as aligned JSON lines, at most `maxRows`, saying how many were left out. Never throws. */
export function rowLines(rows: readonly Row[], maxRows: number): string[] {
  const shown = rows.slice(0, maxRows).map((row) => JSON.stringify(plainRow(row)))
  if (rows.length > maxRows) shown.push(`… ${rows.length - maxRows} more rows not shown (limit ${maxRows}).`)
  return shown
}

/** A row with values JSON can carry: bytes as `\x` hex, big integers as strings. Never throws. */
export function plainRow(row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(row)) out[key] = plainValue(value)
  return out
}

function plainValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString()
  if (Array.isArray(value)) return value.map(plainValue)
  return value
}
