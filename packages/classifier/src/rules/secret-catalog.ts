import { defineRule } from '../rule.js'
import { type Fields, rangeVarName } from '../walk.js'

/**
 * Catalogs and views that hold credentials or the server's own files, each with what it gives away.
 * An unqualified `pg_*` name resolves to pg_catalog first, whatever the search_path.
 */
const SECRET_CATALOGS: ReadonlyMap<string, string> = new Map([
  ['pg_authid', 'every role’s password hash (an md5 hash logs in as the role)'],
  ['pg_shadow', 'every role’s password hash (an md5 hash logs in as the role)'],
  ['pg_user_mapping', 'the passwords user mappings keep for other servers'],
  ['pg_user_mappings', 'the passwords user mappings keep for other servers'],
  ['pg_subscription', 'the connection strings (with passwords) of logical replication subscriptions'],
  ['pg_file_settings', 'the server’s configuration files, line by line'],
  ['pg_hba_file_rules', 'the server’s pg_hba.conf (who may log in from where, and how)'],
  ['pg_ident_file_mappings', 'the server’s pg_ident.conf'],
])

function secretName(relation: unknown): string | undefined {
  const name = rangeVarName(relation)
  if (name === '') return undefined
  const parts = name.toLowerCase().split('.')
  const own = parts.at(-1) ?? ''
  const schema = parts.length > 1 ? parts.at(-2) : undefined
  if (schema !== undefined && schema !== 'pg_catalog') return undefined
  return SECRET_CATALOGS.has(own) ? own : undefined
}

/**
 * A read of a catalog that holds credentials or the server's files. Like `pg_read_file`, what is
 * read leaves the database with the result: no rollback and no effect check can take it back.
 */
export const secretCatalog = defineRule<Fields>({
  id: 'secret-catalog',
  tier: 'destructive',
  kinds: ['RangeVar', 'CopyStmt'],
  check: (node, ctx) => {
    if (ctx.nodeType === 'CopyStmt') return node.is_from === true ? undefined : secretName(node.relation)
    return secretName(node)
  },
  message: (t) =>
    `This reads ${t}, which holds ${SECRET_CATALOGS.get(t) ?? 'secrets'}; once read, it has left the server.`,
  hint: 'Read pg_roles, pg_settings or pg_foreign_server instead: they show the same objects without the secrets.',
})
