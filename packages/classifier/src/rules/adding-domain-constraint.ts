import type { AlterDomainStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { nameOf, unwrap } from '../walk.js'

function constraintName(s: AlterDomainStmt): string {
  const con = unwrap(s.def)?.[1]
  return typeof con?.conname === 'string' ? con.conname : 'a constraint'
}

/** ALTER DOMAIN ... ADD CONSTRAINT checks every column of the domain while it blocks writes to their tables. */
export const addingDomainConstraint = defineRule<AlterDomainStmt>({
  id: 'adding-domain-constraint',
  tier: 'safe',
  severity: 'warning',
  hazard: true,
  kinds: ['AlterDomainStmt'],
  check: (s) => (s.subtype === 'C' && unwrap(s.def)?.[1].skip_validation !== true ? nameOf(s.typeName) : undefined),
  message: (t, s) =>
    `ALTER DOMAIN ${t} ADD CONSTRAINT ${constraintName(s)} reads every row of every table with a column of type ${t} under a SHARE lock: writes to those tables wait until the check ends.`,
  hint: (t) =>
    `Put the rule on the tables instead: for each column of type ${t}, ALTER TABLE ... ADD CONSTRAINT ... CHECK (...) NOT VALID, then in a later migration VALIDATE CONSTRAINT, which reads the rows while writes go on. A domain constraint added NOT VALID skips the check, but its VALIDATE takes the same SHARE lock.`,
})
