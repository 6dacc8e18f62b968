import { TYPED_FIELDS } from './typed-fields.js'

/**
 * An iterative walk over a libpg-query parse tree. Nodes are `{ TypeName: { ...fields } }`
 * wrappers; the walk calls `visit` for each wrapper with its type name, its fields and the stack
 * of enclosing type names. Iterative so that a deep tree cannot overflow the JS stack.
 */

export type Fields = Record<string, unknown>

/** Returns the single `[type, fields]` of a node wrapper, or undefined for anything else. */
export function unwrap(node: unknown): readonly [string, Fields] | undefined {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined
  let found: [string, Fields] | undefined
  for (const key in node) {
    if (found !== undefined) return undefined
    const value = (node as Fields)[key]
    const first = key.charCodeAt(0)
    if (first < 65 || first > 90 || value === null || typeof value !== 'object' || Array.isArray(value))
      return undefined
    found = [key, value as Fields]
  }
  return found
}

export type Visitor = (type: string, fields: Fields, ancestors: readonly string[]) => boolean | undefined

/** The type name of a node wrapper (`{ TypeName: { ...fields } }`), or undefined; {@link unwrap} without the tuple. */
function wrapperType(node: object): string | undefined {
  let found: string | undefined
  for (const key in node) {
    if (found !== undefined) return undefined
    const first = key.charCodeAt(0)
    if (first < 65 || first > 90) return undefined
    const value = (node as Fields)[key]
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
    found = key
  }
  return found
}

/**
 * Visits every node wrapper under `root` (including `root` itself when it is one), parents
 * before children. Return `false` from `visit` to skip a node's children.
 */
export function walk(root: unknown, visit: Visitor, rootAncestors: readonly string[] = []): void {
  const ancestors: string[] = [...rootAncestors]
  const base = ancestors.length
  // Parallel stacks (node, depth, type of a bare typed field) instead of a frame object per node:
  // the walk runs several times per statement and its allocations were a large share of the GC.
  const values: object[] = []
  const depths: number[] = []
  const bare: (string | undefined)[] = []
  if (root !== null && typeof root === 'object') {
    values.push(root)
    depths.push(0)
    bare.push(undefined)
  }
  while (values.length > 0) {
    const value = values.pop() as object
    const depth = depths.pop() as number
    const bareType = bare.pop()
    const level = base + depth
    // Back up to this node's level: a pop or two, cheaper than setting `length` (a runtime call).
    while (ancestors.length > level) ancestors.pop()
    if (ancestors.length < level) ancestors.length = level
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) {
        const child: unknown = value[i]
        if (child !== null && typeof child === 'object') {
          values.push(child)
          depths.push(depth)
          bare.push(undefined)
        }
      }
      continue
    }
    // A node held bare in a typed field (`CallStmt.funccall`) is visited as a node of its type.
    const type = bareType ?? wrapperType(value)
    if (type !== undefined) {
      const fields = (bareType === undefined ? (value as Fields)[type] : value) as Fields
      if (visit(type, fields, ancestors) === false) continue
      ancestors.push(type)
      pushChildren(values, depths, bare, fields, depth + 1, TYPED_FIELDS[type])
      continue
    }
    pushChildren(values, depths, bare, value as Fields, depth, undefined)
  }
}

function pushChildren(
  values: object[],
  depths: number[],
  bare: (string | undefined)[],
  fields: Fields,
  depth: number,
  typed: Readonly<Record<string, string>> | undefined,
): void {
  for (const key in fields) {
    const child = fields[key]
    if (child !== null && typeof child === 'object') {
      values.push(child)
      depths.push(depth)
      bare.push(typed === undefined || Array.isArray(child) || !Object.hasOwn(typed, key) ? undefined : typed[key])
    }
  }
}

/** The `sval` of a `{ String: { sval } }` node, or undefined. */
export function stringValue(node: unknown): string | undefined {
  const w = unwrap(node)
  if (w === undefined || w[0] !== 'String') return undefined
  const sval = w[1].sval
  return typeof sval === 'string' ? sval : ''
}

/** Joins a list of `String` nodes (`["public","users"]` -> `public.users`). */
export function nameOf(list: unknown): string {
  if (!Array.isArray(list)) return ''
  const parts: string[] = []
  for (const item of list) {
    const s = stringValue(item)
    if (s !== undefined) parts.push(s)
  }
  return parts.join('.')
}

/** The last name of a list of `String` nodes (a function's own name without its schema). */
export function lastName(list: unknown): string {
  if (!Array.isArray(list) || list.length === 0) return ''
  return stringValue(list[list.length - 1]) ?? ''
}

/** `schema.name` of a RangeVar-like object (`{ schemaname?, relname }`). */
export function rangeVarName(rv: unknown): string {
  if (rv === null || typeof rv !== 'object') return ''
  const { catalogname, schemaname, relname } = rv as { catalogname?: string; schemaname?: string; relname?: string }
  return [catalogname, schemaname, relname].filter((p): p is string => typeof p === 'string' && p !== '').join('.')
}
