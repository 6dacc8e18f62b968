/**
 * Whether Postgres lets a statement run inside a transaction block, and which statements are
 * transaction control. Statements marked non-transactional are the ones whose Postgres code calls
 * PreventInTransactionBlock.
 */
import { parsePlpgsqlRaw, parseRaw } from './parser.js'
import { constantString, freeDollarTag } from './rules/plpgsql.js'
import { defElem, defElemTruthy } from './rules/util.js'
import { type Fields, stringValue, unwrap, walk } from './walk.js'

export interface TransactionFacts {
  readonly transactional: boolean
  readonly transactionControl: string | null
}

const CONTROL: Record<string, string> = {
  TRANS_STMT_BEGIN: 'BEGIN',
  TRANS_STMT_START: 'START TRANSACTION',
  TRANS_STMT_COMMIT: 'COMMIT',
  TRANS_STMT_ROLLBACK: 'ROLLBACK',
  TRANS_STMT_SAVEPOINT: 'SAVEPOINT',
  TRANS_STMT_RELEASE: 'RELEASE SAVEPOINT',
  TRANS_STMT_ROLLBACK_TO: 'ROLLBACK TO SAVEPOINT',
  TRANS_STMT_PREPARE: 'PREPARE TRANSACTION',
  TRANS_STMT_COMMIT_PREPARED: 'COMMIT PREPARED',
  TRANS_STMT_ROLLBACK_PREPARED: 'ROLLBACK PREPARED',
}

/** Never throws; unknown shapes are treated as transactional. */
export function transactionFacts(kind: string, f: Fields): TransactionFacts {
  const yes = { transactional: true, transactionControl: null }
  const no = { transactional: false, transactionControl: null }
  switch (kind) {
    case 'TransactionStmt': {
      const verb = CONTROL[String(f.kind)] ?? 'TRANSACTION'
      const outside = verb === 'COMMIT PREPARED' || verb === 'ROLLBACK PREPARED'
      return { transactional: !outside, transactionControl: verb }
    }
    case 'IndexStmt':
      return f.concurrent === true ? no : yes
    case 'DropStmt':
      return f.concurrent === true ? no : yes
    case 'ReindexStmt': {
      if (defElem(f.params, 'concurrently') !== undefined) return no
      return f.kind === 'REINDEX_OBJECT_SYSTEM' || f.kind === 'REINDEX_OBJECT_DATABASE' ? no : yes
    }
    case 'VacuumStmt':
      // VACUUM cannot run in a transaction block; ANALYZE alone can.
      return f.is_vacuumcmd === true ? no : yes
    case 'ClusterStmt':
      return f.relation === undefined ? no : yes
    case 'CreatedbStmt':
    case 'DropdbStmt':
    case 'CreateTableSpaceStmt':
    case 'DropTableSpaceStmt':
    case 'AlterSystemStmt':
      return no
    case 'AlterDatabaseStmt':
      return defElem(f.options, 'tablespace') !== undefined ? no : yes
    case 'CreateSubscriptionStmt': {
      // Without a slot to create (create_slot = false, or connect = false) it may run in a transaction.
      const off = (name: string) => {
        const option = defElem(f.options, name)
        return option !== undefined && !defElemTruthy(option)
      }
      return off('create_slot') || off('connect') ? yes : no
    }
    case 'DropSubscriptionStmt':
      return no
    case 'AlterSubscriptionStmt':
      return f.kind === 'ALTER_SUBSCRIPTION_REFRESH' || f.kind === 'ALTER_SUBSCRIPTION_ADD_PUBLICATION' ? no : yes
    case 'AlterTableStmt': {
      const cmds = Array.isArray(f.cmds) ? f.cmds : []
      for (const c of cmds) {
        const w = unwrap(c)
        if (w?.[0] !== 'AlterTableCmd' || w[1].subtype !== 'AT_DetachPartition') continue
        const def = unwrap(w[1].def)
        if (def?.[0] === 'PartitionCmd' && def[1].concurrent === true) return no
      }
      return yes
    }
    case 'DoStmt':
      // A DO block whose PL/pgSQL body commits or rolls back runs only outside a transaction block.
      return bodyTransactionFacts(kind, f).commits ? no : yes
    case 'VariableSetStmt':
      return yes
    default:
      return yes
  }
}

/** What a PL/pgSQL body (a DO block, a function or procedure) does to the transaction it runs in. */
export interface BodyTransactionFacts {
  /** The body has COMMIT or ROLLBACK: a DO block or CALL running it fails inside a transaction block. */
  readonly commits: boolean
  /**
   * The first statement of the body Postgres refuses in any function or DO block, inside a transaction
   * or not (CREATE INDEX CONCURRENTLY, VACUUM, ... and transaction control run by EXECUTE), or undefined.
   */
  readonly refusedInBody: string | undefined
}

const NONE: BodyTransactionFacts = { commits: false, refusedInBody: undefined }

/**
 * Reads the PL/pgSQL body of a DO block (`DoStmt`) or of a function or procedure
 * (`CreateFunctionStmt`): whether it commits or rolls back, and the first statement it runs (directly,
 * or by EXECUTE of a constant string) that Postgres refuses inside any function. Bodies in other
 * languages, and bodies that do not parse, give no facts (the classifier reports those). Never throws.
 *
 * @example
 * bodyTransactionFacts('DoStmt', fields) // { commits: true, refusedInBody: undefined } for DO $$ BEGIN COMMIT; END $$
 */
export function bodyTransactionFacts(kind: string, f: Fields): BodyTransactionFacts {
  if (kind !== 'DoStmt' && kind !== 'CreateFunctionStmt') return NONE
  const options = kind === 'DoStmt' ? f.args : f.options
  const language = (
    stringValue(defElem(options, 'language')?.arg) ?? (kind === 'DoStmt' ? 'plpgsql' : 'sql')
  ).toLowerCase()
  if (language !== 'plpgsql') return NONE
  const as = unwrap(defElem(options, 'as')?.arg)
  const body =
    as?.[0] === 'String'
      ? String(as[1].sval ?? '')
      : as?.[0] === 'List' && Array.isArray(as[1].items)
        ? stringValue(as[1].items[0])
        : undefined
  if (body === undefined) return NONE
  const tag = freeDollarTag(body)
  const parsed = parsePlpgsqlRaw(`CREATE FUNCTION ddl_body() RETURNS void LANGUAGE plpgsql AS ${tag}${body}${tag}`)
  if (!parsed.ok) return NONE
  let commits = false
  let refusedInBody: string | undefined
  const check = (sql: string) => {
    if (refusedInBody !== undefined) return
    const tree = parseRaw(sql)
    if (!tree.ok) return
    for (const raw of tree.tree.stmts ?? []) {
      const inner = unwrap(raw.stmt)
      if (inner === undefined) continue
      const facts = transactionFacts(inner[0], inner[1])
      if (facts.transactionControl !== null || !facts.transactional) {
        refusedInBody = sql.trim().split(/\s+/).slice(0, 4).join(' ')
        return
      }
    }
  }
  walk(parsed.functions, (type, node) => {
    if (type === 'PLpgSQL_stmt_commit' || type === 'PLpgSQL_stmt_rollback') commits = true
    if (type === 'PLpgSQL_stmt_execsql') {
      const expr = unwrap(node.sqlstmt)
      if (expr?.[0] === 'PLpgSQL_expr') check(String(expr[1].query ?? ''))
    }
    if (type === 'PLpgSQL_stmt_dynexecute') {
      const expr = unwrap(node.query)
      const constant = expr?.[0] === 'PLpgSQL_expr' ? constantString(String(expr[1].query ?? '')) : undefined
      if (constant !== undefined) check(constant)
    }
    return undefined
  })
  return { commits, refusedInBody }
}
