/**
 * Inline ignores: `-- ddl:ignore <rule-id> <reason>` on a statement's lines, or on the lines just
 * above it, silences that rule's HAZARD findings on the statement in `ddl check`. The finding is kept
 * as a suppression with its reason (JSON `suppressed`, SARIF `suppressions`). A comment naming a tier
 * rule changes nothing: text in a file can never lower a tier or open the gate.
 */
import { allRules, type ClassifiedStatement, type Finding, type Plan, tokenize } from '@ddl/classifier'

/** A finding an inline comment silenced, and why. */
export interface Suppression {
  readonly finding: Finding
  readonly reason: string
  /** 1-based line of the comment. */
  readonly line: number
}

/** An ignore comment the run could not honour, for a warning. */
export interface IgnoreProblem {
  readonly line: number
  readonly message: string
}

interface IgnoreComment {
  readonly rule: string
  readonly reason: string
  readonly offset: number
  readonly line: number
}

const IGNORE = /^--\s*ddl:ignore\s+([A-Za-z0-9_-]+)(?:\s+(.*?))?\s*$/

const hazardRules: ReadonlySet<string> = new Set(allRules.filter((r) => r.hazard === true).map((r) => r.id))
const knownRules: ReadonlySet<string> = new Set([
  ...allRules.map((r) => r.id),
  'unparsed-statement',
  'unparsed-destructive',
])

function lineOf(source: string, offset: number): number {
  let line = 1
  for (let i = source.indexOf('\n'); i !== -1 && i < offset; i = source.indexOf('\n', i + 1)) line++
  return line
}

function ignoreComments(source: string): IgnoreComment[] {
  if (!source.includes('ddl:ignore')) return []
  const out: IgnoreComment[] = []
  for (const token of tokenize(source)) {
    if (token.type !== 'comment') continue
    const m = IGNORE.exec(source.slice(token.start, token.end))
    if (m === null) continue
    out.push({ rule: m[1] ?? '', reason: m[2] ?? '', offset: token.start, line: lineOf(source, token.start) })
  }
  return out
}

/** The statement an ignore comment belongs to: the one it is inside, above, or on the last line of. */
function owner(statements: readonly ClassifiedStatement[], source: string, comment: IgnoreComment): number {
  for (let i = 0; i < statements.length; i++) {
    const s = statements[i] as ClassifiedStatement
    const start = s.span.offset
    const end = start + s.span.length
    if (comment.offset >= start && comment.offset < end) return i
    if (comment.offset < start) {
      const prev = statements[i - 1]
      // A comment after the previous statement, on the line it ends on, belongs to that one.
      if (prev !== undefined && lineOf(source, prev.span.offset + prev.span.length) === comment.line) return i - 1
      return i
    }
  }
  const last = statements.length - 1
  const s = statements[last]
  if (s !== undefined && lineOf(source, s.span.offset + s.span.length) === comment.line) return last
  return -1
}

/**
 * Applies the ignore comments of `source` to its plan: matching hazard findings move from the
 * verdicts to the suppressions. Tiers are never touched. Never throws.
 */
export function applyIgnores(
  source: string,
  plan: Plan,
): { plan: Plan; suppressed: ReadonlyMap<ClassifiedStatement, readonly Suppression[]>; problems: IgnoreProblem[] } {
  const comments = ignoreComments(source)
  const suppressed = new Map<ClassifiedStatement, Suppression[]>()
  const problems: IgnoreProblem[] = []
  if (comments.length === 0) return { plan, suppressed, problems }
  const byStatement = new Map<number, IgnoreComment[]>()
  for (const comment of comments) {
    if (!knownRules.has(comment.rule)) {
      problems.push({ line: comment.line, message: `ddl:ignore names an unknown rule "${comment.rule}".` })
      continue
    }
    if (!hazardRules.has(comment.rule)) {
      problems.push({
        line: comment.line,
        message: `ddl:ignore ${comment.rule} has no effect: ${comment.rule} sets a tier, and a comment can never lower one (use policy configuration).`,
      })
      continue
    }
    if (comment.reason === '') {
      problems.push({
        line: comment.line,
        message: `ddl:ignore ${comment.rule} has no reason; write one after the rule id. It is not applied.`,
      })
      continue
    }
    const i = owner(plan.statements, source, comment)
    if (i === -1) continue
    const list = byStatement.get(i)
    if (list === undefined) byStatement.set(i, [comment])
    else list.push(comment)
  }
  const statements = plan.statements.map((statement, i) => {
    const mine = byStatement.get(i)
    if (mine === undefined) return statement
    const kept: Finding[] = []
    const gone: Suppression[] = []
    for (const finding of statement.verdict.findings) {
      const by =
        finding.tier === 'safe' && hazardRules.has(finding.rule) ? mine.find((c) => c.rule === finding.rule) : undefined
      if (by === undefined) kept.push(finding)
      else gone.push({ finding, reason: by.reason, line: by.line })
    }
    if (gone.length === 0) return statement
    // The statement's tier stays as the classifier gave it, even when policy let a hazard raise it.
    const copy: ClassifiedStatement = { ...statement, verdict: { ...statement.verdict, findings: kept } }
    suppressed.set(copy, gone)
    return copy
  })
  return { plan: { ...plan, statements }, suppressed, problems }
}
