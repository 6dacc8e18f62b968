import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** LOAD puts native code into the server process. */
export const loadLibrary = defineRule<Fields>({
  id: 'load-library',
  tier: 'destructive',
  kinds: ['LoadStmt'],
  check: (s) => String(s.filename ?? 'library'),
  message: (t) => `LOAD ${t} loads native code into the server process.`,
  hint: 'Load libraries through shared_preload_libraries, set by an operator.',
})
