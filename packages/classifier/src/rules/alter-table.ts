/** Shared reading of ALTER TABLE actions: the table an action belongs to and the column it names. */
import type { RuleContext } from '../rule.js'

/** `table.column` (or `table`) for an AlterTableCmd, from the enclosing statement's text. */
export function actionTarget(cmd: { name?: string }, ctx: RuleContext): string {
  const table = ctx.relation
  return cmd.name !== undefined && cmd.name !== '' ? (table === '' ? cmd.name : `${table}.${cmd.name}`) : table
}

/** ALTER TABLE actions that lose no data and open no access; every other subtype needs a rule. */
export const SAFE_ALTER_TABLE_ACTIONS: ReadonlySet<string> = new Set([
  'AT_AddColumn',
  'AT_AddColumnToView',
  'AT_ColumnDefault',
  'AT_CookedColumnDefault',
  'AT_DropNotNull',
  'AT_SetNotNull',
  'AT_SetExpression',
  'AT_DropExpression',
  'AT_CheckNotNull',
  'AT_SetStatistics',
  'AT_SetOptions',
  'AT_ResetOptions',
  'AT_SetStorage',
  'AT_SetCompression',
  'AT_AddIndex',
  'AT_ReAddIndex',
  'AT_AddConstraint',
  'AT_ReAddConstraint',
  'AT_AddIndexConstraint',
  'AT_AlterConstraint',
  'AT_ValidateConstraint',
  'AT_ClusterOn',
  'AT_DropCluster',
  'AT_SetLogged',
  'AT_SetAccessMethod',
  'AT_SetTableSpace',
  'AT_SetRelOptions',
  'AT_ResetRelOptions',
  'AT_ReplaceRelOptions',
  'AT_EnableTrig',
  'AT_EnableAlwaysTrig',
  'AT_EnableReplicaTrig',
  'AT_EnableTrigAll',
  'AT_EnableTrigUser',
  'AT_EnableRule',
  'AT_EnableAlwaysRule',
  'AT_EnableReplicaRule',
  'AT_AddInherit',
  'AT_AddOf',
  'AT_DropOf',
  'AT_ReplicaIdentity',
  'AT_EnableRowSecurity',
  'AT_ForceRowSecurity',
  'AT_GenericOptions',
  'AT_AttachPartition',
  'AT_DetachPartitionFinalize',
  'AT_AddIdentity',
  'AT_SetIdentity',
  'AT_DropIdentity',
  'AT_ReAddComment',
  'AT_ReAddDomainConstraint',
  'AT_ReAddStatistics',
])
