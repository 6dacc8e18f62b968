import { defineRule, type RuleContext } from '../rule.js'
import { type Fields, rangeVarName, unwrap } from '../walk.js'
import { dropObjectNames } from './util.js'

/**
 * The tables safe-ddl keeps its own state in, as `schema.table` or `schema.*`: the migration
 * tracking and claims tables, and every object of the schema undo copies live in and of the schemas
 * a dropped schema is kept as (`ddl_undo_<id>_<n>`). An entry `prefix*.*` covers every schema whose
 * name starts with `prefix`. The default of `ClassifyOptions.protectedTables`.
 */
export const DEFAULT_PROTECTED_TABLES: readonly string[] = Object.freeze([
  'public.ddl_migrations',
  'public.ddl_migration_claims',
  'ddl_undo.*',
  'ddl_undo_u*.*',
])

/** Statements that change the relation they name in `relation`. */
const RELATION_KINDS = [
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'MergeStmt',
  'AlterTableStmt',
  'RenameStmt',
  'AlterObjectSchemaStmt',
  'CreateStmt',
  'CreateTrigStmt',
  'RuleStmt',
]

/** Object types of DROP that name a relation (or a schema, for `schema.*` entries). */
const DROPPED_RELATIONS = new Set([
  'OBJECT_TABLE',
  'OBJECT_VIEW',
  'OBJECT_MATVIEW',
  'OBJECT_FOREIGN_TABLE',
  'OBJECT_SEQUENCE',
  'OBJECT_INDEX',
])

/** `schema.name` of a written name: unqualified names resolve to `public`, a catalog is dropped. */
function qualified(name: string): string {
  const parts = name.split('.')
  if (parts.length === 1) return `public.${parts[0]}`
  return parts.slice(-2).join('.')
}

/** Whether `name` (as written) is one of the protected tables. Compared without case: fail closed. */
export function isProtected(name: string, protectedTables: readonly string[]): boolean {
  if (name === '') return false
  const full = qualified(name).toLowerCase()
  const [schema] = full.split('.')
  return protectedTables.some((entry) => {
    const e = entry.toLowerCase()
    if (e.endsWith('.*')) return schemaMatches(schema ?? '', e.slice(0, -2))
    return qualified(e) === full
  })
}

/** `ddl_undo` matches itself; `ddl_undo_u*` every schema whose name starts with `ddl_undo_u`. */
function schemaMatches(schema: string, pattern: string): boolean {
  return pattern.endsWith('*') ? schema.startsWith(pattern.slice(0, -1)) : schema === pattern
}

/** Whether `schema` is one whose every object is protected (`schema.*`). */
function isProtectedSchema(schema: string, protectedTables: readonly string[]): boolean {
  const s = schema.toLowerCase()
  return (
    s !== '' &&
    protectedTables.some((entry) => {
      const e = entry.toLowerCase()
      return e.endsWith('.*') && schemaMatches(s, e.slice(0, -2))
    })
  )
}

function protectedOf(ctx: RuleContext): readonly string[] {
  return ctx.protectedTables ?? DEFAULT_PROTECTED_TABLES
}

/** The schema a CREATE names its object in (`ddl_undo.f()`), when it names one. */
function createdInSchema(node: Fields): string | undefined {
  for (const field of [
    'funcname',
    'defnames',
    'typeName',
    'domainname',
    'conversion_name',
    'opclassname',
    'opfamilyname',
  ]) {
    const list = node[field]
    if (!Array.isArray(list) || list.length < 2) continue
    const schema = unwrap(list[list.length - 2])?.[1].sval
    if (typeof schema === 'string') return schema
  }
  for (const field of ['sequence', 'typevar']) {
    const rv = node[field] as { schemaname?: unknown } | undefined
    if (typeof rv?.schemaname === 'string') return rv.schemaname
  }
  return undefined
}

/** The relations a statement writes, renames, alters or drops, as written. */
function writtenRelations(kind: string, node: Fields): { names: string[]; schemas: string[] } {
  const names: string[] = []
  const schemas: string[] = []
  switch (kind) {
    case 'TruncateStmt':
      for (const r of Array.isArray(node.relations) ? node.relations : []) names.push(rangeVarName(unwrap(r)?.[1]))
      break
    case 'CopyStmt':
      if (node.is_from === true) names.push(rangeVarName(node.relation))
      break
    case 'DropStmt': {
      const type = String(node.removeType)
      if (DROPPED_RELATIONS.has(type)) names.push(...dropObjectNames(node.objects))
      else if (type === 'OBJECT_SCHEMA') schemas.push(...dropObjectNames(node.objects))
      break
    }
    case 'CreateTableAsStmt':
      names.push(rangeVarName((node.into as Fields | undefined)?.rel))
      break
    case 'ViewStmt':
      names.push(rangeVarName(node.view))
      break
    case 'CreateSchemaStmt':
      if (typeof node.schemaname === 'string') schemas.push(node.schemaname)
      break
    case 'AlterObjectSchemaStmt':
      names.push(rangeVarName(node.relation))
      if (typeof node.newschema === 'string') schemas.push(node.newschema)
      break
    case 'RenameStmt':
      if (String(node.renameType) === 'OBJECT_SCHEMA') {
        // Renaming a schema away from or onto a protected name: ALTER SCHEMA x RENAME TO ddl_undo
        // plants a schema (and whatever x holds) where undo keeps its copies.
        if (typeof node.subname === 'string') schemas.push(node.subname)
        if (typeof node.newname === 'string') schemas.push(node.newname)
      } else names.push(rangeVarName(node.relation))
      break
    case 'CreateFunctionStmt':
    case 'DefineStmt':
    case 'CreateEnumStmt':
    case 'CreateRangeStmt':
    case 'CreateDomainStmt':
    case 'CreateConversionStmt':
    case 'CreateOpClassStmt':
    case 'CreateOpFamilyStmt':
    case 'CreateSeqStmt':
    case 'CompositeTypeStmt': {
      // Any object created in a protected schema: a function planted there (ddl_undo.keep_rows)
      // would run with the caller's rights inside every run that keeps rows.
      const schema = createdInSchema(node)
      if (schema !== undefined) schemas.push(schema)
      break
    }
    case 'CreatePolicyStmt':
    case 'AlterPolicyStmt':
      names.push(rangeVarName(node.table))
      break
    default:
      names.push(rangeVarName(node.relation), rangeVarName(node.view))
  }
  return { names, schemas }
}

/**
 * SQL that writes, renames, alters or drops safe-ddl's own tables (migration tracking and claims,
 * undo copies) can forge state: an INSERT into the tracking table marks a migration applied that
 * never ran. The tool writes these tables itself, outside the gate.
 */
export const toolOwnedTable = defineRule<Fields>({
  id: 'tool-owned-table',
  tier: 'destructive',
  kinds: [
    ...RELATION_KINDS,
    'TruncateStmt',
    'CopyStmt',
    'DropStmt',
    'CreateTableAsStmt',
    'ViewStmt',
    'CreateSchemaStmt',
    'CreatePolicyStmt',
    'AlterPolicyStmt',
    'IndexStmt',
    'CreateFunctionStmt',
    'DefineStmt',
    'CreateEnumStmt',
    'CreateRangeStmt',
    'CreateDomainStmt',
    'CreateConversionStmt',
    'CreateOpClassStmt',
    'CreateOpFamilyStmt',
    'CreateSeqStmt',
    'CompositeTypeStmt',
  ],
  check: (node, ctx) => {
    // Nested, the node is a data-changing statement in a WITH, EXPLAIN ANALYZE or COPY (query), or an
    // element of CREATE SCHEMA: each names what it writes in `relation` (or `view`).
    const kind = ctx.ancestors.length === 0 ? ctx.statementKind : 'nested'
    const list = protectedOf(ctx)
    const { names, schemas } = writtenRelations(kind, node)
    const hits = names.filter((n) => isProtected(n, list)).map(qualified)
    for (const s of schemas) if (isProtectedSchema(s, list)) hits.push(`schema ${s}`)
    return hits.length > 0 ? hits : undefined
  },
  message: (t) =>
    `${t} holds safe-ddl's own state (migration tracking, claims or undo copies); writing, altering or dropping it from gated SQL can mark a migration applied that never ran or lose what undo needs.`,
  hint: 'Let safe-ddl write its own tables (ddl migrate, ddl undo). To repair them on purpose, run the statement with iKnowWhatImDoing and record why.',
})
