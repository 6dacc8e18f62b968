import type { ReindexStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { rangeVarName } from '../walk.js'
import { defElem, defElemTruthy } from './util.js'

const WORDS: Record<string, string> = {
  REINDEX_OBJECT_INDEX: 'INDEX',
  REINDEX_OBJECT_TABLE: 'TABLE',
  REINDEX_OBJECT_SCHEMA: 'SCHEMA',
  REINDEX_OBJECT_DATABASE: 'DATABASE',
}

/** REINDEX without CONCURRENTLY locks each index ACCESS EXCLUSIVE (queries that would use it wait) and blocks writes. */
export const reindexWithoutConcurrently = defineRule<ReindexStmt>({
  id: 'reindex-without-concurrently',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['ReindexStmt'],
  check: (s) => {
    const words = WORDS[String(s.kind)]
    if (words === undefined || defElemTruthy(defElem(s.params, 'concurrently'))) return undefined
    return `${words} ${s.relation !== undefined ? rangeVarName(s.relation) : (s.name ?? '')}`.trim()
  },
  message: (t) =>
    `REINDEX ${t} rebuilds under an ACCESS EXCLUSIVE lock on each index and a SHARE lock on its table: writes wait, and so does every query planned on the table, until it ends.`,
  hint: (t) =>
    `Use REINDEX ${t.replace(/^(\w+)/, '$1 CONCURRENTLY')} (Postgres 12 and later) outside a transaction; on older versions, CREATE INDEX CONCURRENTLY a copy and drop the old index concurrently.`,
})
