import { defineRule } from '../rule.js'
import { type Fields, rangeVarName } from '../walk.js'
import { actionTarget } from './alter-table.js'
import { defElem } from './util.js'

/**
 * ALTER SEQUENCE ... RESTART, or an identity column's RESTART, moves the counter: the next values
 * can repeat keys already written, and inserts fail on them (or, without a unique key, duplicate).
 */
export const sequenceRestart = defineRule<Fields>({
  id: 'sequence-restart',
  tier: 'cautious',
  kinds: ['AlterSeqStmt', 'AlterTableCmd'],
  check: (node, ctx) => {
    if (ctx.nodeType === 'AlterSeqStmt') {
      return defElem(node.options, 'restart') === undefined ? undefined : rangeVarName(node.sequence)
    }
    if (node.subtype !== 'AT_SetIdentity' && node.subtype !== 'AT_AddIdentity') return undefined
    const def = node.def as { List?: { items?: unknown } } | undefined
    return defElem(def?.List?.items, 'restart') === undefined ? undefined : actionTarget(node, ctx)
  },
  message: (t) => `RESTART moves the counter of ${t}: the next values can repeat keys already in the table.`,
  hint: 'Restart only above the current maximum (SELECT max(id) ...), or leave the sequence where it is.',
})
