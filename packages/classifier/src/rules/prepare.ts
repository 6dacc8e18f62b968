import type { PrepareStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'

/** PREPARE: its query is classified where it stands; a later EXECUTE in the script is classified as it. */
export const prepare = defineRule<PrepareStmt>({
  id: 'prepare',
  tier: 'safe',
  kinds: ['PrepareStmt'],
  check: (s, ctx) => {
    if (s.name !== undefined) ctx.script.prepared.set(s.name, ctx.text)
    return undefined
  },
  message: (t) => t,
  hint: '',
})
