import type { LockStmt } from '@pgsql/types'
import { lockWords } from '../locks.js'
import { defineRule } from '../rule.js'
import type { LockMode } from '../types.js'
import { rangeVarName, unwrap } from '../walk.js'

const MODES: Record<number, LockMode> = {
  5: 'ShareLock',
  6: 'ShareRowExclusiveLock',
  7: 'ExclusiveLock',
  8: 'AccessExclusiveLock',
}

/** LOCK TABLE in a mode that blocks writes (SHARE or stronger) until the transaction ends. */
export const lockTable = defineRule<LockStmt>({
  id: 'lock-table',
  tier: 'safe',
  severity: 'warning',
  hazard: true,
  kinds: ['LockStmt'],
  check: (s) =>
    MODES[s.mode ?? 8] === undefined ? undefined : (s.relations ?? []).map((r) => rangeVarName(unwrap(r)?.[1])),
  message: (t, s) => {
    const mode = MODES[s.mode ?? 8] ?? 'AccessExclusiveLock'
    const blocked = mode === 'AccessExclusiveLock' ? 'reads and writes' : 'writes'
    return `LOCK TABLE ${t} IN ${lockWords(mode)} MODE blocks ${blocked} of ${t} until the transaction ends, and queues them behind itself while it waits.`
  },
  hint: 'Let each statement take the lock it needs. If an explicit lock is required, SET lock_timeout first, take the weakest mode that works, and keep the transaction short.',
})
