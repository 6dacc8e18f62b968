import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** COPY to or from a file on the database server, or through a shell program there. */
export const copyServerFile = defineRule<Fields>({
  id: 'copy-server-file',
  tier: 'destructive',
  kinds: ['CopyStmt'],
  check: (s) =>
    s.is_program === true
      ? `PROGRAM ${String(s.filename)}`
      : typeof s.filename === 'string'
        ? `'${s.filename}'`
        : undefined,
  message: (t) => `COPY with ${t} reads or writes the database server’s own files or runs a shell command on it.`,
  hint: 'Use COPY ... FROM STDIN / TO STDOUT (psql \\copy) so the data moves through the client.',
})
