import type { DiffStatement, PossibleRename, SchemaDiff } from './schema-diff.js'

/** Comment text on one line: no line break can end the `--` comment and start SQL. */
const oneLine = (text: string) => text.replace(/[\r\n\u2028\u2029]+/gu, ' ')

/** The `--` comment lines that introduce a statement: tier, lock, findings. */
function header(statement: DiffStatement): string[] {
  const lock = statement.lock === null ? 'no lock on an existing table' : `lock ${statement.lock}`
  const lines = [`-- ${statement.tier}; ${lock}${statement.transactional ? '' : '; cannot run in a transaction block'}`]
  for (const finding of statement.findings) {
    lines.push(`--   ${finding.rule} (${finding.tier}): ${oneLine(finding.message)}`)
    if (finding.hint !== '') lines.push(`--     ${oneLine(finding.hint)}`)
  }
  return lines
}

/** A statement as the script shows it: its header, then its SQL ending with `;`. */
export function renderStatement(statement: DiffStatement): string {
  return `${header(statement).join('\n')}\n${statement.sql};\n`
}

/** A statement shown as a comment only (an alternative not taken): every line starts with `-- `. */
function commented(statement: DiffStatement): string {
  const sql = `${statement.sql};`
    .split('\n')
    .map((line) => `--   ${line}`)
    .join('\n')
  return `--   [${statement.tier}]\n${sql}`
}

function renameNote(rename: PossibleRename): string {
  const lines = [
    `-- Possible rename: ${rename.kind} ${rename.from} -> ${rename.to} (${rename.status}${rename.reason !== undefined ? `: ${oneLine(rename.reason)}` : ''}).`,
    rename.renamed
      ? '-- The statements below RENAME it (the data is kept). If it really was dropped and another one added, use instead:'
      : '-- The statements below DROP it and CREATE the other (the data is lost). If it was renamed, use instead:',
  ]
  const other = rename.renamed ? rename.dropCreate : rename.rename
  if (other.length === 0) lines.push('--   (no statement can be written for this kind; write it by hand)')
  for (const s of other) lines.push(commented(s))
  return lines.join('\n')
}

/**
 * The diff as SQL that psql applies as it is: a header naming both sides and the tier, the possible
 * renames with the alternative not taken (commented out), then each statement preceded by `--`
 * comments with its tier, lock and findings. An empty diff is a comment saying so.
 *
 * @example
 * process.stdout.write(renderSql(diff, { from: 'migrations', to: 'project prod' }))
 */
export function renderSql(diff: SchemaDiff, sides: { readonly from: string; readonly to: string }): string {
  const out = [`-- ddl diff: from ${oneLine(sides.from)}`, `--           to   ${oneLine(sides.to)}`]
  if (diff.statements.length === 0) {
    out.push('-- The schemas are the same: nothing to change.')
    return `${out.join('\n')}\n`
  }
  const counts = { safe: 0, cautious: 0, destructive: 0 }
  for (const s of diff.statements) counts[s.tier]++
  out.push(
    `-- ${diff.statements.length} statements: ${counts.safe} safe, ${counts.cautious} cautious, ${counts.destructive} destructive. ` +
      `Running them needs ${diff.requires === 'none' ? 'no flag' : diff.requires}.`,
  )
  for (const rename of diff.renames) out.push('--', renameNote(rename))
  out.push('')
  for (const s of diff.statements) out.push(renderStatement(s))
  return `${out.join('\n')}`
}

/** The diff as JSON (`--format json`). */
export function renderJson(diff: SchemaDiff, sides: { readonly from: string; readonly to: string }): string {
  return `${JSON.stringify({ from: sides.from, to: sides.to, identical: diff.statements.length === 0, ...diff }, null, 2)}\n`
}
