/**
 * The walk must reach every place of a parse tree where Postgres could run code: every field of
 * every node type that can hold an expression or a function name. Read from @pgsql/types itself,
 * so a field added by the next Postgres version fails here until the walk visits it.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { TYPED_FIELDS } from '../src/typed-fields.js'
import { walk } from '../src/walk.js'

interface Field {
  readonly name: string
  readonly type: string
  readonly list: boolean
}

function typeFile(): string {
  const require = createRequire(import.meta.url)
  const path = require.resolve('@pgsql/types/types.d.ts', { paths: [new URL('../', import.meta.url).pathname] })
  return readFileSync(path, 'utf8')
}

const source = typeFile()
const interfaces = new Map<string, Field[]>()
for (const m of source.matchAll(/export interface (\w+) \{(.*?)\n\}/gs)) {
  const fields: Field[] = []
  for (const f of (m[2] as string).matchAll(/\n\s+(\w+)\??: ([^;]+);/g)) {
    const raw = (f[2] as string).trim()
    fields.push({ name: f[1] as string, type: raw.replace('[]', ''), list: raw.endsWith('[]') })
  }
  interfaces.set(m[1] as string, fields)
}
const union = source.slice(
  source.indexOf('export type Node = {'),
  source.indexOf('};', source.indexOf('export type Node = {')),
)
const nodeTypes = [...union.matchAll(/^\s{4}(\w+):/gm)].map((m) => m[1] as string)

/** A type holds an expression when one of its fields is a `Node`, or a type that holds one. */
const holdsExpression = new Map<string, boolean>()
function holds(type: string, seen: Set<string> = new Set()): boolean {
  const known = holdsExpression.get(type)
  if (known !== undefined) return known
  if (seen.has(type)) return false
  seen.add(type)
  const fields = interfaces.get(type) ?? []
  const result = fields.some((f) => f.type === 'Node' || (interfaces.has(f.type) && holds(f.type, seen)))
  holdsExpression.set(type, result)
  return result
}

const MARKER = { FuncCall: { funcname: [{ String: { sval: 'marker' } }] } }

/** The types the walk visits under `root`, with their depth below it. */
function visited(root: unknown): string[] {
  const types: string[] = []
  walk(root, (type, _fields, ancestors) => {
    types.push(`${ancestors.length}:${type}`)
    return undefined
  })
  return types
}

describe('the walk', () => {
  it('reads the node types and their fields from @pgsql/types', () => {
    expect(nodeTypes.length).toBeGreaterThan(200)
    expect(interfaces.get('CallStmt')?.map((f) => f.name)).toContain('funccall')
  })

  it('visits a call placed in any Node field of any node type', () => {
    const missed: string[] = []
    for (const type of nodeTypes) {
      for (const field of interfaces.get(type) ?? []) {
        if (field.type !== 'Node') continue
        const value = field.list ? [MARKER] : MARKER
        if (!visited({ [type]: { [field.name]: value } }).includes('1:FuncCall')) missed.push(`${type}.${field.name}`)
      }
    }
    expect(missed).toEqual([])
  })

  it('visits every bare typed field that can hold an expression as a node of its type', () => {
    const missed: string[] = []
    for (const [type, fields] of interfaces) {
      for (const field of fields) {
        if (field.type === 'Node' || !interfaces.has(field.type) || !holds(field.type)) continue
        if (field.list) continue // lists of bare nodes occur only in result types (ParseResult.stmts)
        const tree = { [type]: { [field.name]: { ...{} } } }
        if (!visited(tree).includes(`1:${field.type}`)) missed.push(`${type}.${field.name}: ${field.type}`)
      }
    }
    // ParseResult and the summary types are results, never nodes inside a statement.
    expect(missed.filter((m) => !/^(ParseResult|ScanResult|SummaryResult)\./.test(m))).toEqual([])
  })

  it('reaches the function of a CALL statement held bare in CallStmt.funccall', () => {
    const tree = { CallStmt: { funccall: { funcname: [{ String: { sval: 'purge' } }], args: [MARKER] } } }
    expect(visited(tree).filter((t) => !t.endsWith(':String'))).toEqual(['0:CallStmt', '1:FuncCall', '2:FuncCall'])
  })

  it('lists no typed field that the type file does not have', () => {
    const stale: string[] = []
    for (const [type, fields] of Object.entries(TYPED_FIELDS)) {
      for (const [name, child] of Object.entries(fields)) {
        const declared = interfaces.get(type)?.find((f) => f.name === name)
        if (declared?.type !== child) stale.push(`${type}.${name}: ${child}`)
      }
    }
    expect(stale).toEqual([])
  })
})
