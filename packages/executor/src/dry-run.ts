import type { Plan, Tier } from '@ddl/classifier'
import { displayStatement } from './display.js'
import { type FlagStyle, type GateFlags, gatePlan, renderSafetyError } from './gate.js'
import type { DryRunResult } from './results.js'

const TIER_NAME: Record<Tier, string> = { safe: 'SAFE', cautious: 'CAUTIOUS', destructive: 'DESTRUCTIVE' }

/** How a statement is shown in a dry run: redacted, on one line, cut only when very long. */
const DRY_RUN_LENGTH = 400

/**
 * The dry run of a plan: what would be sent, its tier and findings, whether the given flags would let
 * it run, and the message (`[DRY RUN] Would execute: ...`, `Classification: SAFE`,
 * `No changes made`). Pure: no database, nothing sent. Never throws.
 */
export function dryRun(plan: Plan, flags: GateFlags, project: string, style: FlagStyle = 'api'): DryRunResult {
  const gate = gatePlan(plan, flags, 'execute', style)
  const refusal = gate.isErr()
    ? gate.error.kind === 'SafetyError'
      ? renderSafetyError(gate.error, style)
      : gate.error.message
    : undefined
  const findings = plan.statements.flatMap((s) => s.verdict.findings.map((f) => ({ ...f, line: s.span.line })))
  const lines: string[] = []
  for (const statement of plan.statements) {
    lines.push(`[DRY RUN] Would execute: ${displayStatement(statement.text, DRY_RUN_LENGTH)}`)
  }
  lines.push(`Classification: ${TIER_NAME[plan.tier]}`)
  const single = plan.statements.length === 1 ? plan.statements[0] : undefined
  if (single !== undefined && !single.verdict.transactional && single.verdict.transactionControl === null) {
    lines.push('It would run alone, outside a transaction (Postgres cannot run it inside one).')
  }
  for (const finding of findings) {
    lines.push(`  line ${finding.line} [${finding.tier}/${finding.severity}] ${finding.rule}: ${finding.message}`)
    if (finding.hint !== '') lines.push(`    Hint: ${finding.hint}`)
  }
  if (refusal !== undefined) {
    lines.push('Would be refused:')
    for (const line of refusal.split('\n')) lines.push(`  ${line}`)
  } else if (plan.requires !== 'none') {
    const flag =
      plan.requires === 'confirm'
        ? style === 'api'
          ? 'confirm: true'
          : '--confirm'
        : style === 'api'
          ? 'iKnowWhatImDoing: true'
          : '--i-know-what-im-doing'
    lines.push(`Requires ${flag}: the flags given allow it.`)
  }
  lines.push('No changes made')
  return {
    mode: 'dry-run',
    project,
    plan,
    tier: plan.tier,
    requires: plan.requires,
    findings,
    wouldRun: refusal === undefined,
    refusal,
    message: lines.join('\n'),
    warnings: [],
  }
}
