import { nameOf, rangeVarName, stringValue, unwrap } from '../walk.js'

/** Names of the objects of a DropStmt, schema-qualified as written. */
export function dropObjectNames(objects: unknown): string[] {
  if (!Array.isArray(objects)) return []
  return objects.map((o) => {
    const w = unwrap(o)
    if (w === undefined) return ''
    const [type, f] = w
    if (type === 'List') return nameOf(f.items)
    if (type === 'String') return stringValue(o) ?? ''
    if (type === 'ObjectWithArgs') return nameOf(f.objname)
    if (type === 'TypeName') return nameOf(f.names)
    if (type === 'RangeVar') return rangeVarName(f)
    return type
  })
}

/** Human name of a DropStmt's removeType: `OBJECT_FOREIGN_TABLE` -> `FOREIGN TABLE`. */
export function objectTypeWords(removeType: unknown): string {
  return String(removeType ?? 'OBJECT')
    .replace(/^OBJECT_/, '')
    .replace(/_/g, ' ')
}

/** The DefElem with this name in an options list, or undefined. */
export function defElem(options: unknown, name: string): Record<string, unknown> | undefined {
  if (!Array.isArray(options)) return undefined
  for (const o of options) {
    const w = unwrap(o)
    if (w?.[0] === 'DefElem' && w[1].defname === name) return w[1]
  }
  return undefined
}

/** True when a DefElem's argument means on (missing argument, true, 1, 'on', 'true'). */
export function defElemTruthy(elem: Record<string, unknown> | undefined): boolean {
  if (elem === undefined) return false
  const arg = unwrap(elem.arg)
  if (arg === undefined) return true
  const [type, f] = arg
  if (type === 'Boolean') return f.boolval === true
  if (type === 'Integer') return f.ival !== undefined && f.ival !== 0
  // An unquoted word (`connect = off`) arrives as a one-part TypeName; Postgres reads it as a string.
  const word =
    type === 'String'
      ? f.sval
      : type === 'TypeName' && Array.isArray(f.names) && f.names.length === 1
        ? unwrap(f.names[0])?.[1].sval
        : undefined
  if (word !== undefined) return !['false', 'off', '0', 'no'].includes(String(word).toLowerCase())
  return true
}
