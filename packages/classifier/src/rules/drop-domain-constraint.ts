import type { AlterDomainStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { nameOf } from '../walk.js'

/** ALTER DOMAIN ... DROP CONSTRAINT removes a guarantee from every column of the domain. */
export const dropDomainConstraint = defineRule<AlterDomainStmt>({
  id: 'drop-domain-constraint',
  tier: 'destructive',
  kinds: ['AlterDomainStmt'],
  check: (s) => (s.subtype === 'X' ? `${nameOf(s.typeName)}.${s.name ?? ''}` : undefined),
  message: (t) =>
    `ALTER DOMAIN DROP CONSTRAINT ${t} removes a guarantee from every column of the domain: bad values can enter.`,
  hint: 'Keep the constraint; to change it, add the new one NOT VALID, VALIDATE it, then drop the old one.',
})
