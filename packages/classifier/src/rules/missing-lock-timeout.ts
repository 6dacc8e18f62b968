import { existingRelation, openingWords, takesStrongLock } from '../hazard-state.js'
import { blocksWrites, lockWords, statementLocks, withArticle } from '../locks.js'
import { defineRule } from '../rule.js'
import { STATEMENT_KINDS } from '../statement-kinds.js'
import type { LockMode } from '../types.js'
import type { Fields } from '../walk.js'

const waiting = new WeakMap<object, { mode: LockMode; words: string }>()

/** The first statement of a script that waits for a write-blocking lock on an existing table with no lock_timeout set. */
export const missingLockTimeout = defineRule<Fields>({
  id: 'missing-lock-timeout',
  tier: 'safe',
  severity: 'warning',
  hazard: true,
  kinds: STATEMENT_KINDS,
  check: (s, ctx) => {
    if (ctx.ancestors.length > 0) return undefined
    const state = ctx.script.hazards
    if (state.lockTimeout || state.unguardedStrongLock) return undefined
    const locks = statementLocks(ctx.statementKind, s, ctx.pgVersion)
    if (!takesStrongLock(state, locks)) return undefined
    const strong = locks.relations.find(
      (r) => blocksWrites(r.mode) && existingRelation({ relation: r.relation, script: ctx.script }),
    )
    const mode = strong?.mode ?? locks.lock ?? 'AccessExclusiveLock'
    waiting.set(s, { mode, words: openingWords(ctx.text) })
    return strong?.relation ?? 'its tables'
  },
  message: (t, s) => {
    const { mode, words } = waiting.get(s) ?? { mode: 'AccessExclusiveLock' as LockMode, words: 'This statement' }
    const blocked = mode === 'AccessExclusiveLock' ? `every query that reads or writes ${t}` : `every write to ${t}`
    return `${words} waits for ${withArticle(lockWords(mode))} lock on ${t} with no lock_timeout set: while it waits behind a long-running query, ${blocked} queues behind it.`
  },
  hint: "Start the migration with SET lock_timeout = '5s' (and retry it when it times out), so a lock it cannot get fails fast instead of stalling the table.",
})
