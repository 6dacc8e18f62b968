/** The tables `ddl migrate` keeps its state in: never part of a diff or a drift. */
export const TOOL_TABLES = ['ddl_migrations', 'ddl_migration_claims'] as const

const TOOL_OBJECT = /\bpublic\.(?:"?)ddl_migration(?:s|_claims)(?:"?)(?:\.|_pkey\b|\s|$)/

/** True when a catalog-dump object names one of the tool's own tables (or its columns, key, comment, grants). */
export function isToolTable(object: string): boolean {
  return TOOL_OBJECT.test(object)
}

/** True when an engine identity names one of the tool's own tables in `public`. */
export function isToolRelation(schema: unknown, name: unknown): boolean {
  return schema === 'public' && typeof name === 'string' && (TOOL_TABLES as readonly string[]).includes(name)
}

/**
 * True for the schemas undo keeps its copies in (`ddl_undo`, and `ddl_undo_u<id>_<n>`: a dropped
 * schema kept whole): the tool's own, never part of a diff or a drift.
 */
export function isToolSchema(name: unknown): boolean {
  return typeof name === 'string' && (name === 'ddl_undo' || name.startsWith('ddl_undo_u'))
}
