import type { ClassifiedStatement } from '@ddl/classifier'

/** How undo handles one statement. */
export type Coverage =
  | { readonly kind: 'none' }
  | { readonly kind: 'rows' }
  | { readonly kind: 'truncate' }
  | { readonly kind: 'drop-table' }
  | { readonly kind: 'definitions'; readonly removeType: string }
  | { readonly kind: 'drop-schema' }
  /**
   * ALTER TABLE with DROP COLUMN, ALTER COLUMN ... TYPE or DROP CONSTRAINT: those are kept;
   * `notKept` names the statement's other subcommands that lose something and are not kept.
   */
  | { readonly kind: 'alter-table'; readonly notKept?: string }
  | { readonly kind: 'not-kept'; readonly reason: string }

const DEFINITION_DROPS = new Set([
  'OBJECT_VIEW',
  'OBJECT_MATVIEW',
  'OBJECT_INDEX',
  'OBJECT_FUNCTION',
  'OBJECT_PROCEDURE',
  'OBJECT_TRIGGER',
  'OBJECT_POLICY',
  'OBJECT_TYPE',
  'OBJECT_DOMAIN',
  'OBJECT_SEQUENCE',
])

/** ALTER TABLE subcommands whose loss undo keeps. */
const KEPT_SUBCOMMANDS = new Set(['AT_DropColumn', 'AT_AlterColumnType', 'AT_DropConstraint'])

/** ALTER TABLE subcommands that lose nothing (undo does not remove what a run adds). */
const ADDITIVE_SUBCOMMANDS = new Set([
  'AT_AddColumn',
  'AT_AddConstraint',
  'AT_AddIndex',
  'AT_AddIndexConstraint',
  'AT_ValidateConstraint',
  'AT_SetNotNull',
  'AT_DropNotNull',
  'AT_SetStatistics',
])

const OUTSIDE: Readonly<Record<string, string>> = {
  DropdbStmt: 'a dropped database cannot be kept',
  AlterSystemStmt: 'ALTER SYSTEM changes the server configuration file, outside any transaction',
  CreateRoleStmt: 'roles and their passwords are cluster-wide and are not kept',
  AlterRoleStmt: 'roles and their passwords are cluster-wide and are not kept',
  DropRoleStmt: 'roles and their passwords are cluster-wide and are not kept',
  DropOwnedStmt: 'DROP OWNED removes objects of any kind; they are not kept',
  ReassignOwnedStmt: 'ownership changes are not kept',
  DropTableSpaceStmt: 'tablespaces are outside the database and are not kept',
  CopyStmt: 'COPY to or from a file or program acts outside the database',
}

/** Node types that change rows in place: their old versions are kept. */
const ROW_WRITERS = ['"DeleteStmt"', '"UpdateStmt"', '"MergeStmt"']

function inner(statement: ClassifiedStatement, kind: string): Record<string, unknown> | undefined {
  const node = statement.ast as unknown as Record<string, unknown> | undefined
  const value = node?.[kind]
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined
}

/**
 * What undo keeps for a statement: rows (DELETE/UPDATE/MERGE anywhere in it), a copy (TRUNCATE), the
 * table itself (DROP TABLE), the schema itself (DROP SCHEMA), definitions (DROP VIEW/INDEX/FUNCTION/
 * TRIGGER/POLICY/TYPE/SEQUENCE), a column's definition and values (ALTER TABLE ... DROP COLUMN,
 * ALTER COLUMN ... TYPE) and constraints (DROP CONSTRAINT), nothing because nothing is lost (a safe
 * statement), or nothing with the reason (DROP DATABASE, DROP EXTENSION, roles, ALTER SYSTEM, ...).
 * Pure; never throws.
 */
export function coverageOf(statement: ClassifiedStatement): Coverage {
  const cached = seen.get(statement)
  if (cached !== undefined) return cached
  const coverage = computeCoverage(statement)
  seen.set(statement, coverage)
  return coverage
}

/** Each statement's coverage, computed once (the keeper asks before and instead of sending it). */
const seen = new WeakMap<ClassifiedStatement, Coverage>()

function computeCoverage(statement: ClassifiedStatement): Coverage {
  const kind = statement.kind
  if (kind === 'CopyStmt' && statement.verdict.tier === 'safe') return { kind: 'none' }
  const outside = OUTSIDE[kind]
  if (outside !== undefined) return { kind: 'not-kept', reason: outside }
  if (kind === 'TruncateStmt') return { kind: 'truncate' }
  if (kind === 'DropStmt') {
    const drop = inner(statement, 'DropStmt')
    const removeType = typeof drop?.removeType === 'string' ? drop.removeType : 'OBJECT_UNKNOWN'
    if (removeType === 'OBJECT_TABLE') return { kind: 'drop-table' }
    if (removeType === 'OBJECT_SCHEMA') return { kind: 'drop-schema' }
    if (DEFINITION_DROPS.has(removeType)) return { kind: 'definitions', removeType }
    if (removeType === 'OBJECT_EXTENSION') {
      return {
        kind: 'not-kept',
        reason: 'DROP EXTENSION is not kept by undo: the extension, its objects and their data are dropped for good',
      }
    }
    const what = removeType
      .replace(/^OBJECT_/, '')
      .toLowerCase()
      .replaceAll('_', ' ')
    return { kind: 'not-kept', reason: `DROP ${what.toUpperCase()} is not kept by undo (yet)` }
  }
  let text = ''
  try {
    text = JSON.stringify(statement.ast ?? null)
  } catch {
    text = ''
  }
  if (ROW_WRITERS.some((k) => text.includes(k))) return { kind: 'rows' }
  if (kind === 'AlterTableStmt') {
    const alter = alterTableCoverage(statement)
    if (alter !== undefined) return alter
  }
  if (statement.verdict.tier === 'safe') return { kind: 'none' }
  if (kind === 'AlterTableStmt') {
    if (text.includes('"AT_AlterColumnType"'))
      return {
        kind: 'not-kept',
        reason: 'a type change of a column of something other than a table is not kept by undo',
      }
  }
  return { kind: 'not-kept', reason: `${kind.replace(/Stmt$/, '')} is not kept by undo` }
}

/** The subtypes of an ALTER TABLE's subcommands, in order. */
export function alterSubcommands(statement: ClassifiedStatement): { subtype: string; cmd: Record<string, unknown> }[] {
  const node = inner(statement, 'AlterTableStmt')
  const cmds = Array.isArray(node?.cmds) ? node.cmds : []
  return cmds.flatMap((raw) => {
    const cmd = (raw as { AlterTableCmd?: Record<string, unknown> }).AlterTableCmd
    return cmd === undefined ? [] : [{ subtype: String(cmd.subtype), cmd }]
  })
}

/** An ALTER TABLE (of a table) with subcommands undo keeps, and which of the others lose something. */
function alterTableCoverage(statement: ClassifiedStatement): Coverage | undefined {
  if (inner(statement, 'AlterTableStmt')?.objtype !== 'OBJECT_TABLE') return undefined
  const subtypes = alterSubcommands(statement).map((c) => c.subtype)
  if (!subtypes.some((s) => KEPT_SUBCOMMANDS.has(s))) return undefined
  const others = [...new Set(subtypes.filter((s) => !KEPT_SUBCOMMANDS.has(s) && !ADDITIVE_SUBCOMMANDS.has(s)))].map(
    (s) => s.replace(/^AT_/, ''),
  )
  if (others.length === 0 || statement.verdict.tier === 'safe') return { kind: 'alter-table' }
  return {
    kind: 'alter-table',
    notKept: `the ALTER TABLE subcommand${others.length > 1 ? 's' : ''} ${others.join(', ')} ${others.length > 1 ? 'are' : 'is'} not kept by undo (its DROP COLUMN, ALTER COLUMN ... TYPE and DROP CONSTRAINT are)`,
  }
}

/**
 * The statements of a plan whose effect undo cannot take back, one line each (`line 3: DROP DATABASE
 * ...: a dropped database cannot be kept`), for the gate's message before a run. Never throws.
 */
export function cannotUndo(statements: readonly ClassifiedStatement[]): string[] {
  const lines: string[] = []
  for (const statement of statements) {
    const coverage = coverageOf(statement)
    if (coverage.kind === 'not-kept') lines.push(`line ${statement.span.line}: ${coverage.reason}`)
    else if (coverage.kind === 'alter-table' && coverage.notKept !== undefined)
      lines.push(`line ${statement.span.line}: ${coverage.notKept}`)
    else if (coverage.kind !== 'none' && !statement.verdict.transactional) {
      lines.push(`line ${statement.span.line}: it runs outside a transaction, so nothing can be kept in step with it`)
    }
  }
  return lines
}
