import type { AlterEnumStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { nameOf } from '../walk.js'

/** Renaming an enum value breaks every client that still writes or compares the old label. */
export const renameEnumValue = defineRule<AlterEnumStmt>({
  id: 'rename-enum-value',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['AlterEnumStmt'],
  check: (s) => (typeof s.oldVal === 'string' ? nameOf(s.typeName) : undefined),
  message: (t, s) =>
    `ALTER TYPE ${t} RENAME VALUE '${s.oldVal ?? ''}' TO '${s.newVal ?? ''}': from the moment it commits, every running client that writes or compares with '${s.oldVal ?? ''}' fails with an invalid input value error.`,
  hint: (t, s) => {
    const old = s.oldVal ?? 'old'
    const next = s.newVal ?? 'new'
    return `1. ALTER TYPE ${t} ADD VALUE '${next}' in a migration of its own. 2. Make the app accept both labels and write '${next}'; deploy. 3. Backfill rows from '${old}' to '${next}' in batches. 4. Stop accepting '${old}'; Postgres cannot drop an enum value, so leave it unused.`
  },
})
