import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** EXECUTE of a statement prepared outside this script: nobody can see what it runs. */
export const executePrepared = defineRule<Fields>({
  id: 'execute-prepared',
  tier: 'destructive',
  kinds: ['ExecuteStmt'],
  check: (s, ctx) => {
    const text = ctx.script.prepared.get(String(s.name))
    if (text !== undefined) {
      ctx.nested(text, `EXECUTE ${String(s.name)}`)
      return undefined
    }
    return String(s.name)
  },
  message: (t) => `EXECUTE ${t} runs a statement prepared elsewhere: safe-ddl cannot see which.`,
  hint: 'Send the statement itself, or PREPARE it in the same script so it is classified.',
})
