import type { AlterTableCmd } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { actionTarget } from './alter-table.js'

const SUBTYPES = new Set(['AT_ChangeOwner'])

/** Changing an owner hands over full control. */
export const changeOwner = defineRule<AlterTableCmd>({
  id: 'change-owner',
  tier: 'cautious',
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => (SUBTYPES.has(String(cmd.subtype)) ? actionTarget(cmd, ctx) : undefined),
  message: (t) => `OWNER TO changes who owns ${t}: the new owner can drop it and grant anything on it.`,
  hint: 'Confirm the new owner is meant to have full control of the object.',
})
