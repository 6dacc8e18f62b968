/**
 * Whether Postgres lets a statement run inside a transaction block, and which statements are
 * transaction control. Statements marked non-transactional are the ones whose Postgres code calls
 * PreventInTransactionBlock.
 */
import { defElem, defElemTruthy } from './rules/util.js'
import { type Fields, unwrap } from './walk.js'

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
    case 'VariableSetStmt':
      return yes
    default:
      return yes
  }
}
