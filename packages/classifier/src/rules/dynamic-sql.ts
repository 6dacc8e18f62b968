import { defineRule } from '../rule.js'

/** EXECUTE of SQL assembled at run time: nobody can read what it will run. */
export const dynamicSql = defineRule({
  id: 'dynamic-sql',
  tier: 'destructive',
  kinds: [],
  check: () => undefined,
  message: (t) => `${t} runs SQL built at run time (format(), ||, variables): safe-ddl cannot read what it will do.`,
  hint: 'Write the statements out as static SQL, or EXECUTE a constant string, so each one is classified.',
})
