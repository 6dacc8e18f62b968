import type { AlterTableCmd } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { actionTarget } from './alter-table.js'

const SUBTYPES = new Set(['AT_SetUnLogged'])

/** SET UNLOGGED makes a table lose its rows on a crash. */
export const setUnlogged = defineRule<AlterTableCmd>({
  id: 'set-unlogged',
  tier: 'cautious',
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => (SUBTYPES.has(String(cmd.subtype)) ? actionTarget(cmd, ctx) : undefined),
  message: (t) => `SET UNLOGGED on ${t} makes it skip the WAL: after a crash it is emptied, and replicas lose it.`,
  hint: 'Keep the table logged; use an UNLOGGED scratch table for throwaway data instead.',
})
