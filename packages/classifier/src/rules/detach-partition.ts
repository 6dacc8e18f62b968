import type { AlterTableCmd } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { actionTarget } from './alter-table.js'

const SUBTYPES = new Set(['AT_DetachPartition', 'AT_DropInherit'])

/** Detaching a partition removes its rows from the parent table. */
export const detachPartition = defineRule<AlterTableCmd>({
  id: 'detach-partition',
  tier: 'cautious',
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) => (SUBTYPES.has(String(cmd.subtype)) ? actionTarget(cmd, ctx) : undefined),
  message: (t) => `ALTER TABLE ${t} detaches a child: its rows disappear from queries on the parent.`,
  hint: 'Make sure no query expects those rows through the parent; detach CONCURRENTLY on a busy table.',
})
