import type { GrantRoleStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { unwrap } from '../walk.js'

const DANGEROUS = new Set([
  'pg_execute_server_program',
  'pg_read_server_files',
  'pg_write_server_files',
  'pg_write_all_data',
  'pg_read_all_data',
  'pg_signal_backend',
  'pg_checkpoint',
  'pg_create_subscription',
  'postgres',
  'supabase_admin',
  'rds_superuser',
  'cloudsqlsuperuser',
  'azure_pg_admin',
])

/** Granting a predefined role that reaches files, programs, all data or other sessions. */
export const grantDangerousRole = defineRule<GrantRoleStmt>({
  id: 'grant-dangerous-role',
  tier: 'destructive',
  kinds: ['GrantRoleStmt'],
  check: (s) => {
    if (s.is_grant === false) return undefined
    const names = (s.granted_roles ?? []).map((r) => {
      const w = unwrap(r)
      return String(w?.[1].priv_name ?? w?.[1].rolename ?? '')
    })
    return names.filter((n) => DANGEROUS.has(n.toLowerCase()))
  },
  message: (t) => `GRANT ${t} gives server-file, program, all-data or superuser-like access.`,
  hint: 'Grant table-level privileges for what the role needs; leave these roles to operators.',
})
