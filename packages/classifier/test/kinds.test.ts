import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { allRules, SAFE_KINDS } from '@ddl/classifier'
import { describe, expect, it } from 'vitest'

/** Every statement node type of the grammar, read from @pgsql/types's `Node` union. */
function grammarStatementKinds(): string[] {
  const require = createRequire(import.meta.url)
  const path = require.resolve('@pgsql/types/types.d.ts', { paths: [new URL('../', import.meta.url).pathname] })
  const source = readFileSync(path, 'utf8')
  const union = source.slice(
    source.indexOf('export type Node = {'),
    source.indexOf('};', source.indexOf('export type Node = {')),
  )
  const kinds = [...union.matchAll(/^\s{4}([A-Za-z]+Stmt):/gm)].map((m) => m[1] as string)
  // RawStmt wraps statements; these three only occur inside other statements (set operations,
  // SQL-function RETURN, PL/pgSQL assignment), never as a top-level statement.
  return kinds.filter((k) => !['RawStmt', 'SetOperationStmt', 'ReturnStmt', 'PLAssignStmt'].includes(k))
}

describe('statement kinds', () => {
  const kinds = grammarStatementKinds()

  it('reads the grammar’s statement kinds', () => {
    expect(kinds.length).toBeGreaterThan(100)
    expect(kinds).toContain('DropStmt')
  })

  it('maps every statement kind of the grammar to a rule or to an explicit safe default', () => {
    const ruled = new Set(allRules.flatMap((r) => r.kinds))
    const unmapped = kinds.filter((k) => !SAFE_KINDS.has(k) && !ruled.has(k))
    expect(unmapped).toEqual([])
  })
})
