import type { AlterTableCmd } from '@pgsql/types'
import { existingRelation } from '../hazard-state.js'
import { defineRule } from '../rule.js'

/** SET LOGGED / SET UNLOGGED rewrite the table under ACCESS EXCLUSIVE. */
export const setLoggedOrUnlogged = defineRule<AlterTableCmd>({
  id: 'set-logged-or-unlogged',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) =>
    (cmd.subtype === 'AT_SetLogged' || cmd.subtype === 'AT_SetUnLogged') && existingRelation(ctx)
      ? ctx.relation
      : undefined,
  message: (t, cmd) =>
    `SET ${cmd.subtype === 'AT_SetLogged' ? 'LOGGED rewrites' : 'UNLOGGED rewrites'} ${t} under an ACCESS EXCLUSIVE lock${cmd.subtype === 'AT_SetLogged' ? ' and writes all of it to the WAL' : ''}: reads and writes wait until it ends.`,
  hint: (t) =>
    `Choose the persistence when ${t} is created. To change it on a large table, run it in a maintenance window with SET lock_timeout first.`,
})
