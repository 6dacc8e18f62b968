/** Every rule, and the statement kinds that are safe by default. */
import type { AnyRule } from '../rule.js'
import { addCheckWithoutNotValid } from './add-check-without-not-valid.js'
import { addColumnWithVolatileDefault } from './add-column-with-volatile-default.js'
import { addExclusionConstraint } from './add-exclusion-constraint.js'
import { addForeignKeyColumnWithDefault } from './add-foreign-key-column-with-default.js'
import { addForeignKeyWithoutNotValid } from './add-foreign-key-without-not-valid.js'
import { addIndexWithoutConcurrently } from './add-index-without-concurrently.js'
import { addStoredGeneratedColumn } from './add-stored-generated-column.js'
import { addUniqueWithoutIndex } from './add-unique-without-index.js'
import { addingDomainConstraint } from './adding-domain-constraint.js'
import { addingRequiredField } from './adding-required-field.js'
import { alterColumnType } from './alter-column-type.js'
import { alterColumnTypeDiscardsValues } from './alter-column-type-discards-values.js'
import { alterColumnTypeNarrowing } from './alter-column-type-narrowing.js'
import { alterColumnTypeRewrite } from './alter-column-type-rewrite.js'
import { alterColumnTypeUnknownOldType } from './alter-column-type-unknown-old-type.js'
import { alterSystem } from './alter-system.js'
import { banCharField } from './ban-char-field.js'
import { banDropNotNull } from './ban-drop-not-null.js'
import { callDestructiveFunction } from './call-destructive-function.js'
import { cascade } from './cascade.js'
import { catalogWrite } from './catalog-write.js'
import { changeOwner } from './change-owner.js'
import { cluster } from './cluster.js'
import { concurrentlyInTransaction } from './concurrently-in-transaction.js'
import { copyServerFile } from './copy-server-file.js'
import { createRole } from './create-role.js'
import { createRule } from './create-rule.js'
import { createTrigger } from './create-trigger.js'
import { dangerousFunction } from './dangerous-function.js'
import { deferredCode } from './deferred-code.js'
import { deleteWithWhere } from './delete-with-where.js'
import { deleteWithoutWhere } from './delete-without-where.js'
import { detachPartition } from './detach-partition.js'
import { disableRowLevelSecurity } from './disable-row-level-security.js'
import { disableTrigger } from './disable-trigger.js'
import { dropColumn } from './drop-column.js'
import { dropColumnBreaksClients } from './drop-column-breaks-clients.js'
import { dropConstraint } from './drop-constraint.js'
import { dropDatabase } from './drop-database.js'
import { dropDomainConstraint } from './drop-domain-constraint.js'
import { dropFunction } from './drop-function.js'
import { dropIdentity } from './drop-identity.js'
import { dropIndex } from './drop-index.js'
import { dropIndexWithoutConcurrently } from './drop-index-without-concurrently.js'
import { dropObject } from './drop-object.js'
import { dropOwned } from './drop-owned.js'
import { dropRole } from './drop-role.js'
import { dropSchema } from './drop-schema.js'
import { dropTable } from './drop-table.js'
import { dropTrigger } from './drop-trigger.js'
import { dynamicSql } from './dynamic-sql.js'
import { executePrepared } from './execute-prepared.js'
import { foreignServerFile } from './foreign-server-file.js'
import { functionBody } from './function-body.js'
import { grantDangerousRole } from './grant-dangerous-role.js'
import { grantOrRevoke } from './grant-or-revoke.js'
import { identifierTooLong } from './identifier-too-long.js'
import { lexerSetting } from './lexer-setting.js'
import { loadLibrary } from './load-library.js'
import { lockTable } from './lock-table.js'
import { merge } from './merge.js'
import { missingLockTimeout } from './missing-lock-timeout.js'
import { multipleAccessExclusive } from './multiple-access-exclusive.js'
import { preferBigintOverInt } from './prefer-bigint-over-int.js'
import { preferIdentity } from './prefer-identity.js'
import { preferJsonb } from './prefer-jsonb.js'
import { preferTextField } from './prefer-text-field.js'
import { preferTimestamptz } from './prefer-timestamptz.js'
import { prepare } from './prepare.js'
import { reassignOwned } from './reassign-owned.js'
import { reindexWithoutConcurrently } from './reindex-without-concurrently.js'
import { renameColumn } from './rename-column.js'
import { renameEnumValue } from './rename-enum-value.js'
import { renameSchema } from './rename-schema.js'
import { renameTable } from './rename-table.js'
import { replaceFunction } from './replace-function.js'
import { roleSuperuser } from './role-superuser.js'
import { secretCatalog } from './secret-catalog.js'
import { securityChange } from './security-change.js'
import { securityDefiner } from './security-definer.js'
import { sequenceRestart } from './sequence-restart.js'
import { serverChange } from './server-change.js'
import { setLoggedOrUnlogged } from './set-logged-or-unlogged.js'
import { setNotNullWithoutCheck } from './set-not-null-without-check.js'
import { setRole } from './set-role.js'
import { setUnlogged } from './set-unlogged.js'
import { supabaseAnonSecurityDefiner } from './supabase-anon-security-definer.js'
import { supabaseFunctionSearchPath } from './supabase-function-search-path.js'
import { supabasePolicyAlwaysTrue } from './supabase-policy-always-true.js'
import { supabaseRlsDisabledInPublic } from './supabase-rls-disabled-in-public.js'
import { supabaseViewBypassesRls } from './supabase-view-bypasses-rls.js'
import { superuserExtension } from './superuser-extension.js'
import { toolOwnedTable } from './tool-owned-table.js'
import { transactionNesting } from './transaction-nesting.js'
import { truncate } from './truncate.js'
import { unknownAlterTableAction } from './unknown-alter-table-action.js'
import { unknownFunction } from './unknown-function.js'
import { unknownStatement } from './unknown-statement.js'
import { unreadableBody } from './unreadable-body.js'
import { unsafeSetting } from './unsafe-setting.js'
import { updateInheritedColumn } from './update-inherited-column.js'
import { updateWithWhere } from './update-with-where.js'
import { updateWithoutWhere } from './update-without-where.js'
import { upsert } from './upsert.js'
import { vacuumFull } from './vacuum-full.js'
import { validateConstraintInSameTransaction } from './validate-constraint-in-same-transaction.js'
/** Every rule, in the order they run (the order findings are listed in within a tier). */
export const rules: readonly AnyRule[] = [
  dropDatabase,
  dropSchema,
  dropTable,
  dropFunction,
  dropObject,
  dropIndex,
  dropTrigger,
  cascade,
  toolOwnedTable,
  truncate,
  catalogWrite,
  secretCatalog,
  deleteWithoutWhere,
  deleteWithWhere,
  updateWithoutWhere,
  updateWithWhere,
  updateInheritedColumn,
  merge,
  upsert,
  dropColumn,
  dropIdentity,
  sequenceRestart,
  dropConstraint,
  dropDomainConstraint,
  alterColumnType,
  alterColumnTypeDiscardsValues,
  disableTrigger,
  disableRowLevelSecurity,
  setUnlogged,
  detachPartition,
  changeOwner,
  unknownAlterTableAction,
  dangerousFunction,
  unknownFunction,
  callDestructiveFunction,
  deferredCode,
  functionBody,
  securityDefiner,
  prepare,
  executePrepared,
  copyServerFile,
  foreignServerFile,
  superuserExtension,
  alterSystem,
  loadLibrary,
  roleSuperuser,
  createRole,
  dropRole,
  dropOwned,
  reassignOwned,
  grantDangerousRole,
  grantOrRevoke,
  setRole,
  unsafeSetting,
  lexerSetting,
  securityChange,
  serverChange,
  createRule,
  createTrigger,
  // Hazards: they report locks, rewrites and broken clients, and never change the tier.
  addIndexWithoutConcurrently,
  dropIndexWithoutConcurrently,
  concurrentlyInTransaction,
  transactionNesting,
  addForeignKeyWithoutNotValid,
  addCheckWithoutNotValid,
  validateConstraintInSameTransaction,
  addUniqueWithoutIndex,
  addExclusionConstraint,
  addingDomainConstraint,
  setNotNullWithoutCheck,
  alterColumnTypeRewrite,
  addColumnWithVolatileDefault,
  addStoredGeneratedColumn,
  addingRequiredField,
  setLoggedOrUnlogged,
  vacuumFull,
  cluster,
  reindexWithoutConcurrently,
  lockTable,
  renameTable,
  renameColumn,
  renameEnumValue,
  renameSchema,
  dropColumnBreaksClients,
  banDropNotNull,
  multipleAccessExclusive,
  missingLockTimeout,
  preferBigintOverInt,
  preferIdentity,
  preferTextField,
  banCharField,
  preferTimestamptz,
  preferJsonb,
  addForeignKeyColumnWithDefault,
  alterColumnTypeNarrowing,
  alterColumnTypeUnknownOldType,
  identifierTooLong,
  // Supabase profile: silent unless ClassifyOptions.profile is 'supabase'.
  supabasePolicyAlwaysTrue,
  supabaseFunctionSearchPath,
  supabaseViewBypassesRls,
]

/** Rules reported by the engine or by other rules rather than dispatched on a node kind. */
export const reportedRules: readonly AnyRule[] = [
  unknownStatement,
  dynamicSql,
  unreadableBody,
  replaceFunction,
  // Decided at the end of a run (history.ts), Supabase profile only.
  supabaseRlsDisabledInPublic,
  supabaseAnonSecurityDefiner,
]

/**
 * Statement kinds that are `safe` unless a rule says otherwise. Every statement kind of the
 * grammar is either here or read by a rule; anything else is `unknown-statement` (destructive).
 */
export const SAFE_KINDS: ReadonlySet<string> = new Set([
  'SelectStmt',
  'InsertStmt',
  'CreateStmt',
  'CreateForeignTableStmt',
  'IndexStmt',
  'CreateSchemaStmt',
  'CreateSeqStmt',
  'AlterSeqStmt',
  'ViewStmt',
  'CompositeTypeStmt',
  'CreateEnumStmt',
  'CreateRangeStmt',
  'CreateDomainStmt',
  'DefineStmt',
  'CreateExtensionStmt',
  'CommentStmt',
  'CreateTableAsStmt',
  'CreateStatsStmt',
  'AlterStatsStmt',
  'VariableShowStmt',
  'ExplainStmt',
  'AlterEnumStmt',
  'CreateCastStmt',
  'CreateConversionStmt',
  'CreateOpClassStmt',
  'CreateOpFamilyStmt',
  'AlterOpFamilyStmt',
  'CreateTransformStmt',
  'CreateAmStmt',
  'ListenStmt',
  'UnlistenStmt',
  'NotifyStmt',
  'DeclareCursorStmt',
  'FetchStmt',
  'ClosePortalStmt',
  'DeallocateStmt',
  'DiscardStmt',
  'CheckPointStmt',
  'LockStmt',
  'VacuumStmt',
  'ClusterStmt',
  'ReindexStmt',
  'RefreshMatViewStmt',
  'RenameStmt',
  'AlterObjectSchemaStmt',
  'AlterObjectDependsStmt',
  'AlterOperatorStmt',
  'AlterTypeStmt',
  'AlterCollationStmt',
  'AlterTSDictionaryStmt',
  'AlterTSConfigurationStmt',
  'ReplicaIdentityStmt',
  'ConstraintsSetStmt',
  'CreatedbStmt',
  'AlterDatabaseRefreshCollStmt',
  'ImportForeignSchemaStmt',
  'TransactionStmt',
  'VariableSetStmt',
  'AlterTableStmt',
  'AlterDomainStmt',
  'AlterFunctionStmt',
  'CallStmt',
  'PrepareStmt',
])

/** Rules by the node kind they read. */
export const registry: ReadonlyMap<string, readonly AnyRule[]> = (() => {
  const map = new Map<string, AnyRule[]>()
  for (const rule of rules) {
    for (const kind of rule.kinds) {
      const list = map.get(kind)
      if (list === undefined) map.set(kind, [rule])
      else list.push(rule)
    }
  }
  return map
})()

/** Statement kinds that are mapped: safe by default or read by a rule. */
export const kindRules: ReadonlySet<string> = new Set([
  ...SAFE_KINDS,
  ...[...registry.keys()].filter((k) => k.endsWith('Stmt')),
])

/** Every rule id, for docs and SARIF metadata. */
export const allRules: readonly AnyRule[] = [...rules, ...reportedRules]
