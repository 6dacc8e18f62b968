import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** Statements that change access control: policies, owners, security labels, foreign servers, event triggers. */
export const securityChange = defineRule<Fields>({
  id: 'security-change',
  tier: 'cautious',
  kinds: [
    'CreatePolicyStmt',
    'AlterPolicyStmt',
    'SecLabelStmt',
    'CreateUserMappingStmt',
    'AlterUserMappingStmt',
    'DropUserMappingStmt',
    'CreateFdwStmt',
    'AlterFdwStmt',
    'CreateForeignServerStmt',
    'AlterForeignServerStmt',
    'CreateEventTrigStmt',
    'AlterEventTrigStmt',
    'CreatePLangStmt',
    'AlterOwnerStmt',
  ],
  check: () => true,
  message: (t) =>
    `This changes access control (${t}): policies, owners, foreign servers or event triggers decide who sees what.`,
  hint: 'Review who gains or loses access; test the policy with SET ROLE in a rehearsal.',
})
