import type { IndexStmt } from '@pgsql/types'
import { existingRelation } from '../hazard-state.js'
import { defineRule } from '../rule.js'

/** `CREATE [UNIQUE] INDEX` at the start of a statement, after any comments. */
const HEAD = /^((?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*CREATE\s+(?:UNIQUE\s+)?INDEX)\b/i

/** The statement rewritten with CONCURRENTLY, computed in check (which sees the text) for the hint. */
const rewritten = new WeakMap<object, string>()

/** CREATE INDEX without CONCURRENTLY holds a SHARE lock for the whole build: writes wait. */
export const addIndexWithoutConcurrently = defineRule<IndexStmt>({
  id: 'add-index-without-concurrently',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['IndexStmt'],
  check: (s, ctx) => {
    if (s.concurrent === true || !existingRelation(ctx)) return undefined
    if (HEAD.test(ctx.text)) rewritten.set(s, ctx.text.replace(HEAD, '$1 CONCURRENTLY').trim())
    return ctx.relation
  },
  message: (t, s) =>
    `CREATE INDEX${s.idxname === undefined ? '' : ` ${s.idxname}`} takes a SHARE lock on ${t} and reads every row: inserts, updates and deletes on ${t} wait until the build ends.`,
  hint: (t, s) =>
    `Use ${rewritten.get(s) ?? `CREATE INDEX CONCURRENTLY ... ON ${t}`} in a migration of its own, outside a transaction; if it fails, drop the INVALID index it leaves and run it again.`,
})
