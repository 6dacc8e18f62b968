import { defineRule } from '../rule.js'
import { type Fields, unwrap } from '../walk.js'

/** Options of foreign data wrappers that run a program or read a file on the database server (file_fdw). */
const OPTIONS: ReadonlySet<string> = new Set(['program', 'filename'])

/** Statements whose OPTIONS (...) are passed to a foreign data wrapper. */
const FDW_KINDS: ReadonlySet<string> = new Set([
  'CreateForeignTableStmt',
  'CreateForeignServerStmt',
  'AlterForeignServerStmt',
  'CreateUserMappingStmt',
  'AlterUserMappingStmt',
  'CreateFdwStmt',
  'AlterFdwStmt',
  'ImportForeignSchemaStmt',
  'AlterTableStmt',
])

/**
 * A foreign table, server, user mapping or wrapper with a `program` or `filename` option: reading the
 * table then runs a shell command on the database host, or reads its files, as `COPY ... PROGRAM`
 * does. Set through CREATE or ALTER ... OPTIONS, on the table or a column.
 */
export const foreignServerFile = defineRule<Fields>({
  id: 'foreign-server-file',
  tier: 'destructive',
  kinds: ['DefElem'],
  check: (node, ctx) => {
    const option = String(node.defname ?? '').toLowerCase()
    if (!OPTIONS.has(option) || !FDW_KINDS.has(ctx.statementKind)) return undefined
    // ALTER TABLE: only generic (foreign) options, not storage parameters.
    if (ctx.statementKind === 'AlterTableStmt' && !ctx.ancestors.includes('AlterTableCmd')) return undefined
    const arg = unwrap(node.arg)
    const value = arg?.[0] === 'String' ? String(arg[1].sval ?? '') : '?'
    return `${option} '${value}'`
  },
  message: (t) =>
    `A foreign data wrapper option ${t} makes every read of the foreign table run a program or read a file on the database server.`,
  hint: 'Load files through the client (COPY ... FROM STDIN, psql \\copy); an operator sets up server-side file access by hand.',
})
