import { freshTable } from '../fresh-objects.js'
import { defineRule } from '../rule.js'
import { type Fields, rangeVarName } from '../walk.js'

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
  check: (node, ctx) => {
    // A policy on a table this script created decides who sees rows that do not exist yet: no
    // access anyone had is changed.
    if (ctx.nodeType === 'CreatePolicyStmt' && freshTable(ctx.script, rangeVarName(node.table))) return undefined
    return true
  },
  message: (t) =>
    `This changes access control (${t}): policies, owners, foreign servers or event triggers decide who sees what.`,
  hint: 'Review who gains or loses access; test the policy with SET ROLE in a rehearsal.',
})
