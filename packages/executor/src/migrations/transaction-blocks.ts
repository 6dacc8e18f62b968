import type { ClassifiedStatement } from '@ddl/classifier'

/** The statements of a migration file once plain `BEGIN ... COMMIT` blocks are taken out. */
export type TransactionBlocks =
  | {
      readonly ok: true
      /** The statements that are sent, in file order. */
      readonly kept: readonly ClassifiedStatement[]
      /** The `BEGIN`/`COMMIT` statements that are not sent (the file's one transaction replaces them). */
      readonly stripped: readonly ClassifiedStatement[]
    }
  | {
      readonly ok: false
      /** The first transaction-control statement that cannot be taken out. */
      readonly statement: ClassifiedStatement
      /** Why, for a person. */
      readonly reason: string
    }

type Node = Readonly<Record<string, unknown>>

function transactionNode(statement: ClassifiedStatement): Node | undefined {
  const ast = statement.ast as Readonly<Record<string, unknown>> | undefined
  const node = ast?.TransactionStmt
  return typeof node === 'object' && node !== null ? (node as Node) : undefined
}

function hasOptions(node: Node): boolean {
  return Array.isArray(node.options) && node.options.length > 0
}

/**
 * Takes plain, balanced `BEGIN ... COMMIT` blocks out of a migration file, which runs in one
 * transaction of its own. Hand-written files often wrap themselves in `BEGIN; ... COMMIT;`, and
 * Prisma writes `BEGIN; ... COMMIT;` around the steps that replace an enum type.
 *
 * Why this is safe: a block makes its statements commit together; the file's one transaction makes
 * every statement of the file commit together, which includes each block. Every statement sees the
 * changes of the statements before it either way, so a file that succeeds as written succeeds with the
 * same effect. What can differ is only a failure, in the safe direction: everything of the file is
 * rolled back instead of only the failing block, and a statement that needs an earlier block to be
 * committed (using an enum value added by `ALTER TYPE ... ADD VALUE` in an earlier block) fails, and
 * rolls the whole file back, instead of succeeding. `now()` is the same for the whole file.
 *
 * Taken out: `BEGIN`, `BEGIN WORK`, `BEGIN TRANSACTION`, `START TRANSACTION` without options, each
 * closed by `COMMIT` or `END` (without `AND CHAIN`) before the next `BEGIN`. Anything else is refused:
 * `ROLLBACK` (the file would undo itself), `SAVEPOINT`, `RELEASE`, `ROLLBACK TO`, `PREPARE
 * TRANSACTION`, a `BEGIN ISOLATION LEVEL ...` or `READ ONLY` (its settings would be dropped), nested or
 * unclosed blocks, a `COMMIT` with no `BEGIN`. Never throws.
 *
 * @example
 * stripTransactionBlocks(plan.statements) // { ok: true, kept: [CREATE TABLE ...], stripped: [BEGIN, COMMIT] }
 */
export function stripTransactionBlocks(statements: readonly ClassifiedStatement[]): TransactionBlocks {
  const kept: ClassifiedStatement[] = []
  const stripped: ClassifiedStatement[] = []
  let open: ClassifiedStatement | undefined
  for (const statement of statements) {
    const verb = statement.verdict.transactionControl
    if (verb === null) {
      kept.push(statement)
      continue
    }
    const node = transactionNode(statement)
    const kind = typeof node?.kind === 'string' ? node.kind : undefined
    if (node === undefined || kind === undefined) {
      return { ok: false, statement, reason: `${verb} cannot be read; it is not taken out.` }
    }
    if (kind === 'TRANS_STMT_BEGIN' || kind === 'TRANS_STMT_START') {
      if (open !== undefined) {
        return {
          ok: false,
          statement,
          reason: `${verb} opens a block inside the block opened at line ${open.span.line}.`,
        }
      }
      if (hasOptions(node)) {
        return {
          ok: false,
          statement,
          reason: `${verb} sets transaction options (isolation level, read only, deferrable), which would be dropped.`,
        }
      }
      open = statement
      stripped.push(statement)
      continue
    }
    if (kind === 'TRANS_STMT_COMMIT') {
      if (open === undefined) return { ok: false, statement, reason: 'COMMIT has no BEGIN before it in the file.' }
      if (node.chain === true) return { ok: false, statement, reason: 'COMMIT AND CHAIN starts another transaction.' }
      open = undefined
      stripped.push(statement)
      continue
    }
    return { ok: false, statement, reason: `${verb} cannot be taken out: the file runs in one transaction.` }
  }
  if (open !== undefined) {
    return { ok: false, statement: open, reason: `${open.verdict.transactionControl ?? 'BEGIN'} is never committed.` }
  }
  return { ok: true, kept, stripped }
}
