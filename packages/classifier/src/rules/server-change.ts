import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** Statements that change the database or server setup: replication, tablespaces, extensions, database settings. */
export const serverChange = defineRule<Fields>({
  id: 'server-change',
  tier: 'cautious',
  kinds: [
    'CreatePublicationStmt',
    'AlterPublicationStmt',
    'CreateSubscriptionStmt',
    'AlterSubscriptionStmt',
    'CreateTableSpaceStmt',
    'AlterTableSpaceOptionsStmt',
    'AlterTableMoveAllStmt',
    'AlterDatabaseStmt',
    'AlterDatabaseSetStmt',
    'AlterExtensionStmt',
    'AlterExtensionContentsStmt',
  ],
  check: () => true,
  message: (t) =>
    `${t} changes the server or database setup (replication, storage, extensions, database settings) beyond one table.`,
  hint: 'Have an operator review and run it; rehearse it on a copy first.',
})
