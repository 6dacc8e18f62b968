import type { AlterTableCmd } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { actionTarget } from './alter-table.js'

/** ENABLE REPLICA: the trigger or rule fires only when session_replication_role is replica, so never in normal work. */
const SUBTYPES = new Set([
  'AT_DisableTrig',
  'AT_DisableTrigAll',
  'AT_DisableTrigUser',
  'AT_DisableRule',
  'AT_EnableReplicaTrig',
  'AT_EnableReplicaRule',
])

/** Disabling triggers or rules turns off the work they do on every write. */
export const disableTrigger = defineRule<AlterTableCmd>({
  id: 'disable-trigger',
  tier: 'cautious',
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => (SUBTYPES.has(String(cmd.subtype)) ? actionTarget(cmd, ctx) : undefined),
  message: (t) =>
    `ALTER TABLE ${t} DISABLE (or ENABLE REPLICA) TRIGGER/RULE turns off checks and side effects (foreign keys with ALL) for every write until re-enabled.`,
  hint: 'Keep triggers on; if a bulk load needs them off, re-enable them in the same transaction and validate afterwards.',
})
