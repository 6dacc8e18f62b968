import { defineRule } from '../rule.js'
import { type Fields, rangeVarName } from '../walk.js'

/**
 * Writes to the system catalogs: `UPDATE pg_settings` changes settings (including how later SQL text
 * is read and the executor's timeouts), `DELETE FROM pg_largeobject` removes large objects, and a
 * write to `pg_class` or `pg_attribute` can corrupt the database. Unqualified `pg_*` names resolve to
 * pg_catalog first, whatever the search_path.
 */
/** System catalogs and views (pg_catalog), by name: an unqualified `pg_settings` resolves to these first. */
const CATALOGS: ReadonlySet<string> = new Set(
  `
pg_aggregate pg_am pg_amop pg_amproc pg_attrdef pg_attribute pg_auth_members pg_authid pg_cast pg_class pg_collation
pg_constraint pg_conversion pg_database pg_db_role_setting pg_default_acl pg_depend pg_description pg_enum
pg_event_trigger pg_extension pg_foreign_data_wrapper pg_foreign_server pg_foreign_table pg_index pg_inherits
pg_init_privs pg_language pg_largeobject pg_largeobject_metadata pg_namespace pg_opclass pg_operator pg_opfamily
pg_parameter_acl pg_partitioned_table pg_policy pg_proc pg_publication pg_publication_namespace pg_publication_rel
pg_range pg_replication_origin pg_rewrite pg_seclabel pg_sequence pg_shdepend pg_shdescription pg_shseclabel
pg_statistic pg_statistic_ext pg_statistic_ext_data pg_subscription pg_subscription_rel pg_tablespace pg_transform
pg_trigger pg_ts_config pg_ts_config_map pg_ts_dict pg_ts_parser pg_ts_template pg_type pg_user_mapping pg_settings
pg_roles pg_user pg_shadow pg_group pg_rules pg_views pg_tables pg_matviews pg_indexes pg_sequences pg_stats
pg_policies pg_locks pg_stat_activity pg_file_settings pg_hba_file_rules pg_ident_file_mappings pg_config
pg_prepared_statements pg_prepared_xacts pg_replication_slots pg_available_extensions pg_user_mappings
`
    .split(/\s+/)
    .filter((s) => s !== ''),
)

function catalogName(relation: unknown): string | undefined {
  const name = rangeVarName(relation)
  if (name === '') return undefined
  const parts = name.toLowerCase().split('.')
  const own = parts.at(-1) ?? ''
  const schema = parts.length > 1 ? parts.at(-2) : undefined
  if (schema === 'pg_catalog' || schema === 'information_schema' || schema === 'pg_toast') return name
  if (schema === undefined && CATALOGS.has(own)) return name
  return undefined
}

export const catalogWrite = defineRule<Fields>({
  id: 'catalog-write',
  tier: 'destructive',
  kinds: ['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'TruncateStmt', 'CopyStmt', 'AlterTableStmt'],
  check: (node, ctx) => {
    if (ctx.nodeType === 'CopyStmt' && node.is_from !== true) return undefined
    if (ctx.nodeType === 'TruncateStmt') {
      const names = (Array.isArray(node.relations) ? node.relations : []).map((r) =>
        catalogName((r as { RangeVar?: unknown }).RangeVar),
      )
      return names.filter((n): n is string => n !== undefined)
    }
    return catalogName(node.relation)
  },
  message: (t) =>
    `This writes to the system catalog ${t}: settings, large objects or the database's own structure change underneath every check.`,
  hint: 'Use the SQL command made for it (SET, ALTER ..., lo_unlink by an operator); never write catalogs from a migration.',
})
