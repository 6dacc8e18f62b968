import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import {
  bodyTransactionFacts,
  type ClassifiedStatement,
  type ClassifyOptions,
  compareTiers,
  type Finding,
  type Plan,
  type RequiredFlag,
  requiredFlag,
  type Tier,
} from '@ddl/classifier'
import { err, ok, type Result } from 'neverthrow'
import { classifySql } from '../classify-sql.js'
import { displayStatement } from '../display.js'
import { copiesFromClient } from '../gate.js'
import { decodeSql } from '../sql-input.js'
import type { MigrationIssue } from './migration-error.js'
import { MigrationRunError } from './migration-error.js'
import type { MigrationEntry } from './migration-layout.js'
import { detectDialect, selectPart } from './migration-sections.js'
import { stripTransactionBlocks } from './transaction-blocks.js'

/** A migration file read from disk, with the SHA-256 of its bytes. */
export interface MigrationFile extends MigrationEntry {
  /** SHA-256 of the file's bytes, lowercase hex (what the tracking table keeps). */
  readonly checksum: string
  readonly bytes: Uint8Array
}

/**
 * A pending migration file, classified and ready to run (or refused, with `issues`).
 */
export interface PreparedMigration extends MigrationFile {
  /** The file's SQL (UTF-8, a byte-order mark dropped); statement spans point into it. */
  readonly sql: string
  /** The classifier's plan of the whole file (empty for a file of only comments). */
  readonly plan: Plan | undefined
  /** The statements that are sent, each alone, byte for byte (transaction blocks taken out). */
  readonly statements: readonly ClassifiedStatement[]
  /** `BEGIN`/`COMMIT` statements taken out (see `stripTransactionBlocks`). */
  readonly stripped: readonly ClassifiedStatement[]
  /**
   * True when the file runs in one transaction with its tracking row (the usual case); false when
   * every statement is one Postgres cannot run in a transaction (CREATE INDEX CONCURRENTLY, a DO block
   * that commits), or the layout's own marker says so (dbmate `transaction:false`, postgres-migrations
   * `disable-transaction`, Diesel `run_in_transaction = false`): then they run one at a time, outside
   * one, and the tracking row is written after the last.
   */
  readonly transactional: boolean
  /** The highest tier of the statements sent. */
  readonly tier: Tier
  /** The flag the file needs. */
  readonly requires: RequiredFlag
  /** Every finding of the statements sent, with its line in the file. */
  readonly findings: readonly (Finding & { readonly line: number })[]
  /** Why the file cannot run whatever the flags (transaction control, mixed, parse errors). */
  readonly issues: readonly MigrationIssue[]
}

/** SHA-256 of bytes, lowercase hex. Never throws. */
export function checksumOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * Reads a migration file and its checksum. Fails with `MigrationRunError` (`layout`) when the file
 * cannot be read. Never throws.
 */
export async function readMigrationFile(entry: MigrationEntry): Promise<Result<MigrationFile, MigrationRunError>> {
  try {
    const bytes = new Uint8Array(await readFile(entry.path))
    return ok({ ...entry, bytes, checksum: checksumOf(bytes) })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    return err(
      new MigrationRunError(`Cannot read migration ${entry.name} (${entry.path}): ${code}.`, {
        problem: 'layout',
        file: entry.name,
      }),
    )
  }
}

/**
 * Classifies a pending migration: decodes it (strict UTF-8), classifies every statement, takes plain
 * `BEGIN ... COMMIT` blocks out, and decides how it runs (in one transaction, or statement by statement
 * outside one when every statement must). What would stop it whatever the flags is in `issues`: SQL
 * that does not parse, transaction control that cannot be taken out, a file mixing statements that
 * cannot run in a transaction with others. A file of only comments is an empty migration. Never throws.
 */
export async function prepareMigration(file: MigrationFile, options: ClassifyOptions): Promise<PreparedMigration> {
  const base = { ...file, sql: '', plan: undefined, statements: [], stripped: [], transactional: true }
  const decoded = decodeSql(file.bytes, file.path)
  if (decoded.isErr()) return refusedFile(base, inputIssue(file, decoded.error.message, decoded.error.line))
  let sql = decoded.value
  let marker = file.outsideTransaction === true
  // A file of dbmate or node-pg-migrate sections sends only its part (the up section forward), even
  // when it is given alone or sits in another layout's folder: a down section never runs forward.
  const dialect = file.dialect ?? detectDialect(sql)
  if (dialect !== undefined) {
    const part = selectPart(sql, dialect, file.part ?? 'up')
    if (!part.ok) {
      return refusedFile(
        { ...base, sql },
        {
          name: file.name,
          path: file.path,
          reason: 'section',
          line: part.line,
          message: `line ${part.line}: ${dialect} file: ${part.message} Nothing of it is run.`,
        },
      )
    }
    sql = part.sql
    marker = marker || part.outsideTransaction
  }
  if (sql.trim() === '') return emptyMigration({ ...base, sql })
  const classified = await classifySql(sql, options, file.path)
  if (classified.isErr()) {
    if (classified.error.problem === 'empty') return emptyMigration({ ...base, sql })
    return refusedFile({ ...base, sql }, inputIssue(file, classified.error.message, classified.error.line))
  }
  const plan = classified.value
  const issues: MigrationIssue[] = []
  const unparsed = plan.statements.filter((s) => s.parseError !== undefined || s.kind === 'Unparsed')
  for (const statement of unparsed) {
    const line = statement.parseError?.line ?? statement.span.line
    issues.push({
      name: file.name,
      path: file.path,
      reason: 'parse',
      line,
      message: `line ${line}: ${statement.parseError?.message ?? 'the statement could not be parsed'}: ${displayStatement(statement.text, 60)}`,
    })
  }
  for (const statement of plan.statements.filter(copiesFromClient)) {
    const line = statement.span.line
    issues.push({
      name: file.name,
      path: file.path,
      reason: 'input',
      line,
      message:
        `line ${line}: ${displayStatement(statement.text, 60)} waits for rows from the client, and ddl migrate ` +
        'sends SQL, not COPY data. Write the rows as INSERT ... VALUES, or load them with psql outside ddl.',
    })
  }
  const blocks = stripTransactionBlocks(plan.statements)
  let statements: readonly ClassifiedStatement[] = plan.statements
  let stripped: readonly ClassifiedStatement[] = []
  if (blocks.ok) {
    statements = blocks.kept
    stripped = blocks.stripped
  } else {
    const line = blocks.statement.span.line
    issues.push({
      name: file.name,
      path: file.path,
      reason: 'transaction-control',
      line,
      message:
        `line ${line}: ${blocks.reason} Each migration file runs in one transaction of its own; ` +
        'remove the transaction control (a plain BEGIN ... COMMIT around statements is taken out), ' +
        'or split the file so each part is one migration.',
    })
  }
  const hidden = hiddenTransactionFacts(statements)
  for (const { statement, refused } of hidden.refused) {
    issues.push({
      name: file.name,
      path: file.path,
      reason: 'body',
      line: statement.span.line,
      message:
        `line ${statement.span.line}: ${displayStatement(statement.text, 40)} runs ${refused}, which Postgres refuses ` +
        'inside any DO block, function or procedure, in a transaction or not: it would fail when it runs. ' +
        `Run ${refused} as a statement of its own, in a migration file of its own.`,
    })
  }
  const cannotBeInside = (s: ClassifiedStatement) => !s.verdict.transactional || hidden.commitCalls.has(s)
  const outside = statements.filter(cannotBeInside)
  const inside = marker ? [] : statements.filter((s) => !cannotBeInside(s))
  const transactional = outside.length === 0 && !marker
  if (outside.length > 0 && inside.length > 0) {
    const first = outside[0] as ClassifiedStatement
    const other = inside[0] as ClassifiedStatement
    issues.push({
      name: file.name,
      path: file.path,
      reason: 'mixed',
      line: first.span.line,
      message:
        `line ${first.span.line}: ${displayStatement(first.text, 60)} cannot run in a transaction, and the file also ` +
        `has statements that must (line ${other.span.line}: ${displayStatement(other.text, 40)}). ` +
        'Split it: put the statements that cannot run in a transaction (CREATE INDEX CONCURRENTLY, ...) in a ' +
        'migration file of their own, after the rest.',
    })
  }
  if (!transactional && stripped.length > 0) {
    const line = stripped[0]?.span.line ?? 1
    issues.push({
      name: file.name,
      path: file.path,
      reason: 'transaction-control',
      line,
      message: marker
        ? `line ${line}: BEGIN ... COMMIT in a file its marker runs outside a transaction: statements are sent one at a time, so the block cannot be kept; remove it, or remove the marker.`
        : `line ${line}: BEGIN ... COMMIT around statements that cannot run in a transaction; remove it.`,
    })
  }
  let tier: Tier = 'safe'
  for (const statement of statements) if (compareTiers(statement.verdict.tier, tier) > 0) tier = statement.verdict.tier
  const findings = statements.flatMap((s) => s.verdict.findings.map((f) => ({ ...f, line: s.span.line })))
  return {
    ...file,
    sql,
    plan,
    statements,
    stripped,
    transactional,
    tier,
    requires: requiredFlag(tier),
    findings,
    issues,
  }
}

type Base = Omit<PreparedMigration, 'tier' | 'requires' | 'findings' | 'issues'>

function emptyMigration(base: Base): PreparedMigration {
  return { ...base, tier: 'safe', requires: 'none', findings: [], issues: [] }
}

function refusedFile(base: Base, issue: MigrationIssue): PreparedMigration {
  return { ...base, tier: 'safe', requires: 'none', findings: [], issues: [issue] }
}

function inputIssue(file: MigrationFile, message: string, line: number | undefined): MigrationIssue {
  return {
    name: file.name,
    path: file.path,
    reason: 'input',
    ...(line !== undefined ? { line } : {}),
    message,
  }
}

/**
 * Transaction facts the classifier's verdict of a single statement cannot see: a DO block or routine
 * body that runs CREATE INDEX CONCURRENTLY or VACUUM (refused in any function), and a CALL of a
 * procedure created earlier in the same file whose body commits or rolls back (it fails inside a
 * transaction block). A CALL of a procedure defined elsewhere is not known here.
 */
function hiddenTransactionFacts(statements: readonly ClassifiedStatement[]): {
  refused: { statement: ClassifiedStatement; refused: string }[]
  commitCalls: Set<ClassifiedStatement>
} {
  const refused: { statement: ClassifiedStatement; refused: string }[] = []
  const commitCalls = new Set<ClassifiedStatement>()
  const committing = new Set<string>()
  for (const statement of statements) {
    const fields = fieldsOf(statement)
    if (fields === undefined) continue
    if (statement.kind === 'DoStmt' || statement.kind === 'CreateFunctionStmt') {
      const facts = bodyTransactionFacts(statement.kind, fields)
      if (facts.refusedInBody !== undefined) refused.push({ statement, refused: facts.refusedInBody })
      const name = lastName(fields.funcname)
      if (statement.kind === 'CreateFunctionStmt' && name !== undefined) {
        if (facts.commits) committing.add(name)
        else committing.delete(name)
      }
    } else if (statement.kind === 'CallStmt') {
      // The parser gives CallStmt.funccall unwrapped; accept the wrapped shape too.
      const call = fields.funccall as { funcname?: unknown; FuncCall?: { funcname?: unknown } } | undefined
      const name = lastName(call?.funcname ?? call?.FuncCall?.funcname)
      if (name !== undefined && committing.has(name)) commitCalls.add(statement)
    }
  }
  return { refused, commitCalls }
}

/**
 * The statements Postgres cannot run inside a transaction block: those whose verdict says so, and a
 * CALL of a procedure created earlier in the file whose body commits. Never throws.
 */
export function statementsThatRunAlone(statements: readonly ClassifiedStatement[]): Set<ClassifiedStatement> {
  const { commitCalls } = hiddenTransactionFacts(statements)
  return new Set(statements.filter((s) => !s.verdict.transactional || commitCalls.has(s)))
}

function fieldsOf(statement: ClassifiedStatement): Record<string, unknown> | undefined {
  const ast = statement.ast as Record<string, unknown> | undefined
  const fields = ast?.[statement.kind]
  return typeof fields === 'object' && fields !== null ? (fields as Record<string, unknown>) : undefined
}

function lastName(list: unknown): string | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined
  const last = list[list.length - 1] as { String?: { sval?: string } }
  return last.String?.sval?.toLowerCase()
}
