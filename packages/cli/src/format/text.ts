import type { ClassifiedStatement, Finding, Tier } from '@ddl/classifier'
import { compareTiers, redactSql } from '@ddl/classifier'
import type { Colors } from '../io.js'
import type { CheckedFile, Reporter, RunSummary } from './report.js'

/** Lines of a statement shown in its code frame. */
const FRAME_LINES = 3
/** Characters of a source line shown; longer lines are cut around the caret. */
const FRAME_WIDTH = 120

/**
 * The human format: for each finding `path:line:col  TIER  rule  message`, its hint, a parse error
 * when there is one, and a code frame of the statement's first lines with a caret; then one summary line.
 *
 * @example
 * db/002.sql:3:1  DESTRUCTIVE  drop-table  DROP TABLE orders deletes the table and all its rows; ...
 *   hint: 1. Stop using `orders` in the app and deploy. 2. ...
 *    3 | DROP TABLE orders
 *      | ^
 */
export function textReporter(write: (text: string) => void, c: Colors): Reporter {
  return {
    file(file) {
      for (const statement of file.plan.statements) {
        if (statement.verdict.findings.length === 0) continue
        write(renderStatement(file, statement, c))
      }
    },
    end(summary) {
      write(renderSummary(summary, c))
    },
  }
}

function tierLabel(finding: Finding, c: Colors): string {
  switch (finding.tier) {
    case 'destructive':
      return c.bold(c.red('DESTRUCTIVE'))
    case 'cautious':
      return c.yellow('CAUTIOUS')
    case 'safe':
      return c.cyan('HAZARD')
  }
}

function renderStatement(file: CheckedFile, statement: ClassifiedStatement, c: Colors): string {
  const { line, column } = statement.span
  const where = `${file.path}:${line}:${column}`
  const findings = [...statement.verdict.findings].sort((a, b) => compareTiers(b.tier, a.tier))
  let out = ''
  for (const finding of findings) {
    out += `${c.bold(where)}  ${tierLabel(finding, c)}  ${c.dim(finding.rule)}  ${finding.message}\n`
    out += `  ${c.dim('hint:')} ${finding.hint}\n`
    const l = finding.lowered
    if (l !== undefined) {
      out += `  ${c.dim('lowered:')} policy ${l.policyHash?.slice(0, 12) ?? ''} moved ${l.rule} from ${l.from} to ${l.to}\n`
    }
  }
  const error = statement.parseError
  if (error !== undefined) out += `  ${c.dim('parse error:')} ${error.message} (${error.line}:${error.column})\n`
  out += codeFrame(file.source, statement, c)
  return `${out}\n`
}

/**
 * The statement's first lines with line numbers, and a caret at its start (or at its parse error).
 * Password literals are shown as `'***'` (CI logs are read by more people than the repository).
 */
export function codeFrame(source: string, statement: ClassifiedStatement, c: Colors): string {
  const { offset, length, line } = statement.span
  const lineStart = source.lastIndexOf('\n', offset - 1) + 1
  const end = offset + length
  const lineEnd = source.indexOf('\n', end)
  // Redacted piece by piece: text before and after the statement on its lines may be other statements.
  const shownText =
    redactSql(source.slice(lineStart, offset)) +
    redactSql(statement.text) +
    redactSql(source.slice(end, lineEnd === -1 ? source.length : lineEnd))
  const lines: string[] = []
  let at = 0
  while (lines.length < FRAME_LINES && at <= shownText.length) {
    const next = shownText.indexOf('\n', at)
    const stop = next === -1 ? shownText.length : next
    lines.push(shownText.slice(at, stop).replace(/\r$/, ''))
    if (next === -1) break
    at = next + 1
  }
  // The caret: at the statement's start, or at its parse error when that lies in the statement;
  // placed in the shown (redacted) text, where a literal may have changed length.
  const error = statement.parseError
  const inStatement =
    error === undefined ? 0 : offsetIn(statement.text, error.line - line, error, statement.span.column)
  const shownPrefix = redactSql(source.slice(lineStart, offset)) + redactSql(statement.text.slice(0, inStatement))
  const lastBreak = shownPrefix.lastIndexOf('\n')
  const caretLine = line + shownPrefix.split('\n').length - 1
  const caretColumn = shownPrefix.length - lastBreak
  const gutter = String(line + lines.length - 1).length
  let out = ''
  lines.forEach((text, i) => {
    const number = line + i
    const { shown, shift } = window(text, number === caretLine ? caretColumn - 1 : 0)
    out += `  ${c.dim(`${String(number).padStart(gutter)} |`)} ${shown}\n`
    if (number === caretLine) {
      const before = text.slice(shift, caretColumn - 1).replace(/[^\t]/g, ' ')
      out += `  ${c.dim(`${' '.repeat(gutter)} |`)} ${shift > 0 ? ' ' : ''}${before}${c.red('^')}\n`
    }
  })
  return out
}

/** The 0-based offset in `text` (which starts at column `startColumn`) of the error `lines` lines down; 0 when outside. */
function offsetIn(text: string, lines: number, error: { readonly column: number }, startColumn: number): number {
  let at = 0
  for (let i = 0; i < lines; i++) {
    const next = text.indexOf('\n', at)
    if (next === -1) return 0
    at = next + 1
  }
  const offset = at + error.column - (lines === 0 ? startColumn : 1)
  return offset >= 0 && offset <= text.length ? offset : 0
}

/** Cuts a long line to FRAME_WIDTH characters around `caret` (0-based); `shift` is where the shown part starts. */
function window(text: string, caret: number): { shown: string; shift: number } {
  if (text.length <= FRAME_WIDTH) return { shown: text, shift: 0 }
  const shift = Math.max(0, Math.min(caret - 40, text.length - FRAME_WIDTH))
  const body = text.slice(shift, shift + FRAME_WIDTH)
  return { shown: `${shift > 0 ? '…' : ''}${body}${shift + FRAME_WIDTH < text.length ? '…' : ''}`, shift }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

const ORDER: readonly Tier[] = ['safe', 'cautious', 'destructive']

/** The one summary line of a run: files, statements by tier, and whether it fails `--fail-on`. */
export function renderSummary(summary: RunSummary, c: Colors): string {
  const counts = ORDER.map((tier) => {
    const text = `${summary.byTier[tier]} ${tier}`
    if (summary.byTier[tier] === 0) return text
    return tier === 'destructive' ? c.red(text) : tier === 'cautious' ? c.yellow(text) : c.green(text)
  }).join(', ')
  const unparsed = summary.unparsed > 0 ? ` (${summary.unparsed} could not be parsed)` : ''
  const verdict =
    summary.failOn === 'never'
      ? 'Passes (--fail-on never).'
      : summary.failed
        ? c.bold(`Fails: ${summary.tier} is at or above --fail-on ${summary.failOn}.`)
        : `Passes: nothing at or above --fail-on ${summary.failOn}.`
  const unreadable =
    summary.unreadable > 0
      ? c.bold(` ${plural(summary.unreadable, 'file')} could not be checked (exit 2): see the errors on stderr.`)
      : ''
  return `${plural(summary.files, 'file')}, ${plural(summary.statements, 'statement')}: ${counts}${unparsed}. ${verdict}${unreadable}\n`
}
