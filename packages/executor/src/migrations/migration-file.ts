import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import {
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
import { decodeSql } from '../sql-input.js'
import type { MigrationIssue } from './migration-error.js'
import { MigrationRunError } from './migration-error.js'
import type { MigrationEntry } from './migration-layout.js'
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
   * every statement is one Postgres cannot run in a transaction (CREATE INDEX CONCURRENTLY): then
   * they run one at a time, outside one, and the tracking row is written after the last.
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
  const sql = decoded.value
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
  const outside = statements.filter((s) => !s.verdict.transactional)
  const inside = statements.filter((s) => s.verdict.transactional)
  const transactional = outside.length === 0
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
  if (outside.length > 0 && stripped.length > 0) {
    const line = stripped[0]?.span.line ?? 1
    issues.push({
      name: file.name,
      path: file.path,
      reason: 'transaction-control',
      line,
      message: `line ${line}: BEGIN ... COMMIT around statements that cannot run in a transaction; remove it.`,
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
