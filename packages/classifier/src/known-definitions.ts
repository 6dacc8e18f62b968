/**
 * The definitions of constraints, indexes and triggers that earlier statements and earlier
 * migrations of a run made, in a form two definitions can be compared in: a drop followed by the
 * same definition again (Prisma's `DROP CONSTRAINT "Post_authorId_fkey"` then `ADD CONSTRAINT
 * "Post_authorId_fkey" FOREIGN KEY ... ON DELETE CASCADE`) guards exactly what it guarded before,
 * and a plain index that is dropped takes no guarantee with it. Without the old definition (a script
 * checked alone, an object made outside the migrations) nothing is assumed.
 *
 * What counts as "the same": the columns, the referenced table and columns, the expression, the
 * access method, uniqueness and predicate. Not the referential actions, deferrability or `NOT VALID`
 * (the rows already passed the old check, and every new row is checked), nor the name.
 */
import { relationKey } from './locks.js'
import type { ScriptState } from './rule.js'
import { type Fields, lastName, nameOf, rangeVarName, unwrap } from './walk.js'

/** A definition as the history knows it. */
export interface KnownDefinition {
  /** The comparable form (see the module comment). */
  readonly shape: string
  /** The table it belongs to, as a relation key (`public.` dropped). */
  readonly table: string
  /** For a foreign key: the table it references, as a relation key. */
  readonly references?: string
  /** For an index: it enforces uniqueness (or exclusion). */
  readonly guards?: boolean
  /** For a PRIMARY KEY or UNIQUE constraint: its columns, sorted. */
  readonly unique?: readonly string[]
  /** A PRIMARY KEY (unique and not null). */
  readonly primary?: boolean
  /** For a key or a foreign key: the table's columns it is on (dropping them all drops it too). */
  readonly columns?: readonly string[]
  /** For a trigger: the events it fires on, as the parser's bit mask, its `UPDATE OF` columns, and the rest. */
  readonly trigger?: { readonly events: number; readonly columns: readonly string[]; readonly rest: string }
}

const UPDATE_EVENT = 16

/**
 * True when trigger `now` fires everywhere `before` fired, running the same function with the same
 * arguments, timing, level and WHEN: on every event `before` had (for UPDATE, on its columns or on
 * any column), perhaps on more.
 */
export function triggerCovers(before: KnownDefinition, now: KnownDefinition): boolean {
  const a = before.trigger
  const b = now.trigger
  if (a === undefined || b === undefined || a.rest !== b.rest || before.table !== now.table) return false
  if ((a.events & b.events) !== a.events) return false
  if ((a.events & UPDATE_EVENT) === 0 || b.columns.length === 0) return true
  return a.columns.length > 0 && a.columns.every((c) => b.columns.includes(c))
}

/**
 * Definitions by `kind:name`, the key script-context uses (`constraint:Post.Post_pkey`, `index:idx_a`),
 * with the keys of each table (its own and the foreign keys that reference it) at hand, so that a
 * script of many drops stays linear.
 */
export interface KnownDefinitions {
  readonly byKey: Map<string, KnownDefinition>
  readonly byTable: Map<string, Set<string>>
}

/** An empty set of definitions (plain data: a history crosses to a worker thread by structured clone). */
export function newKnownDefinitions(): KnownDefinitions {
  return { byKey: new Map(), byTable: new Map() }
}

function getDef(known: KnownDefinitions, key: string): KnownDefinition | undefined {
  return known.byKey.get(key)
}

function setDef(known: KnownDefinitions, key: string, def: KnownDefinition): void {
  deleteDef(known, key)
  known.byKey.set(key, def)
  for (const table of [def.table, def.references]) {
    if (table === undefined) continue
    const keys = known.byTable.get(table)
    if (keys === undefined) known.byTable.set(table, new Set([key]))
    else keys.add(key)
  }
}

function deleteDef(known: KnownDefinitions, key: string): void {
  const def = known.byKey.get(key)
  if (def === undefined) return
  known.byKey.delete(key)
  for (const table of [def.table, def.references]) if (table !== undefined) known.byTable.get(table)?.delete(key)
}

/** The definitions on or referencing a table, as [key, definition] pairs (a copy: safe to change the set). */
function ofTable(known: KnownDefinitions, table: string): [string, KnownDefinition][] {
  const out: [string, KnownDefinition][] = []
  for (const key of known.byTable.get(table) ?? []) {
    const def = known.byKey.get(key)
    if (def !== undefined) out.push([key, def])
  }
  return out
}

const IGNORED: ReadonlySet<string> = new Set([
  'location',
  'stmt_location',
  'stmt_len',
  'conname',
  'idxname',
  'trigname',
  'fk_del_action',
  'fk_upd_action',
  'fk_del_set_cols',
  'deferrable',
  'initdeferred',
  'skip_validation',
  'initially_valid',
  'if_not_exists',
  'concurrent',
  'replace',
  'indexspace',
  'tableSpace',
  'options',
  'idxcomment',
  'reset_default_tblspc',
  'relation',
  'pktable',
])

/** JSON of a node without positions, names and the fields listed above, keys in order. */
function canonical(node: unknown): string {
  return JSON.stringify(node, (key, value) => {
    if (IGNORED.has(key)) return undefined
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const out: Record<string, unknown> = {}
      for (const k of Object.keys(value).sort()) out[k] = (value as Record<string, unknown>)[k]
      return out
    }
    return value
  })
}

const names = (list: unknown): string[] =>
  (Array.isArray(list) ? list : []).map((n) => String(unwrap(n)?.[1].sval ?? ''))

/** Postgres's own name for an unnamed constraint (`orders_pkey`, `orders_user_id_fkey`), or undefined. */
function defaultName(relname: string, contype: string, columns: readonly string[]): string | undefined {
  const suffix =
    contype === 'CONSTR_PRIMARY'
      ? 'pkey'
      : contype === 'CONSTR_UNIQUE'
        ? 'key'
        : contype === 'CONSTR_FOREIGN'
          ? 'fkey'
          : undefined
  if (suffix === undefined || columns.length === 0) return undefined
  const name = contype === 'CONSTR_PRIMARY' ? `${relname}_${suffix}` : `${relname}_${columns.join('_')}_${suffix}`
  // Postgres shortens names over 63 bytes by its own rule; such names are left unknown.
  return Buffer.byteLength(name) > 63 ? undefined : name
}

/**
 * A constraint's name and definition. `column` is set for a column's own constraint (`id int
 * PRIMARY KEY`, `user_id int REFERENCES users`), whose columns are implied.
 */
export function constraintDefinition(
  table: Fields | undefined,
  con: Fields,
  column?: string,
): { readonly name: string; readonly definition: KnownDefinition } | undefined {
  const contype = String(con.contype ?? '')
  if (contype === 'CONSTR_NOTNULL' || contype === 'CONSTR_DEFAULT' || contype === 'CONSTR_GENERATED') return undefined
  if (contype === 'CONSTR_IDENTITY' || contype.startsWith('CONSTR_ATTR')) return undefined
  const relname = typeof table?.relname === 'string' ? table.relname : ''
  const tableKey = relationKey(rangeVarName(table))
  if (tableKey === '') return undefined
  let keys = names(contype === 'CONSTR_FOREIGN' ? con.fk_attrs : con.keys)
  if (keys.length === 0 && column !== undefined) keys = [column]
  // Uniqueness does not depend on the order of the columns.
  if (contype === 'CONSTR_PRIMARY' || contype === 'CONSTR_UNIQUE') keys = [...keys].sort()
  const name = typeof con.conname === 'string' ? con.conname : defaultName(relname, contype, keys)
  if (name === undefined) return undefined
  const references = contype === 'CONSTR_FOREIGN' ? relationKey(rangeVarName(con.pktable)) : undefined
  const shape = `${contype}|${keys.join(',')}|${references ?? ''}|${canonical({ ...con, keys: undefined, fk_attrs: undefined })}`
  const uniqueness =
    contype === 'CONSTR_PRIMARY' || contype === 'CONSTR_UNIQUE'
      ? { unique: keys, ...(contype === 'CONSTR_PRIMARY' ? { primary: true } : {}) }
      : {}
  return {
    name,
    definition: {
      shape,
      table: tableKey,
      ...(references === undefined ? {} : { references }),
      ...uniqueness,
      ...(keys.length === 0 ? {} : { columns: keys }),
    },
  }
}

/** The key script-context uses for a table's constraint, trigger or policy: `kind:table.name` (names as the parser folds them). */
export function tableObjectKey(kind: string, table: unknown, name: string): string {
  return `${kind}:${rangeVarName(table)}.${name}`
}

/** The key script-context uses for an index: `index:name` (the name as the parser folds it). */
export function indexKey(name: string): string {
  return `index:${name}`
}

/** The definitions a statement makes, by key (CREATE TABLE, ADD CONSTRAINT, CREATE INDEX, CREATE TRIGGER). */
export function definitionsMade(kind: string, s: Fields): [string, KnownDefinition][] {
  const out: [string, KnownDefinition][] = []
  const table = s.relation as Fields | undefined
  const addConstraint = (con: Fields, column?: string) => {
    const made = constraintDefinition(table, con, column)
    if (made !== undefined) out.push([tableObjectKey('constraint', table, made.name), made.definition])
  }
  switch (kind) {
    case 'CreateStmt':
      for (const e of Array.isArray(s.tableElts) ? s.tableElts : []) {
        const w = unwrap(e)
        if (w?.[0] === 'Constraint') addConstraint(w[1])
        if (w?.[0] === 'ColumnDef') {
          for (const c of Array.isArray(w[1].constraints) ? w[1].constraints : []) {
            const cw = unwrap(c)
            if (cw?.[0] === 'Constraint') addConstraint(cw[1], String(w[1].colname ?? ''))
          }
        }
      }
      break
    case 'AlterTableStmt':
      for (const c of Array.isArray(s.cmds) ? s.cmds : []) {
        const cmd = unwrap(c)?.[1]
        const def = unwrap(cmd?.def)
        if (cmd?.subtype === 'AT_AddConstraint' && def?.[0] === 'Constraint') addConstraint(def[1])
      }
      break
    case 'IndexStmt':
      if (typeof s.idxname === 'string') {
        out.push([
          indexKey(s.idxname),
          {
            shape: `${relationKey(rangeVarName(table))}|${canonical(s)}`,
            table: relationKey(rangeVarName(table)),
            guards: s.unique === true || s.primary === true || s.isconstraint === true,
          },
        ])
      }
      break
    case 'CreateTrigStmt':
      if (typeof s.trigname === 'string') {
        // The function as named, schema included (`x.audit()` is not `audit()`; `public.` is dropped).
        const fn = relationKey(nameOf(s.funcname))
        const rest = `${fn}|${canonical({ ...s, funcname: undefined, events: undefined, columns: undefined })}`
        out.push([
          tableObjectKey('trigger', table, s.trigname),
          {
            shape: `${relationKey(rangeVarName(table))}|${fn}|${canonical({ ...s, funcname: undefined })}`,
            table: relationKey(rangeVarName(table)),
            trigger: { events: Number(s.events ?? 0), columns: names(s.columns), rest },
          },
        ])
      }
      break
  }
  return out
}

/** Keys a statement drops, and the tables whose constraints, indexes and triggers go with them. */
function definitionsDropped(kind: string, s: Fields): { keys: string[]; tables: string[] } {
  const keys: string[] = []
  const tables: string[] = []
  if (kind === 'AlterTableStmt') {
    for (const c of Array.isArray(s.cmds) ? s.cmds : []) {
      const cmd = unwrap(c)?.[1]
      if (cmd?.subtype === 'AT_DropConstraint' && typeof cmd.name === 'string') {
        keys.push(tableObjectKey('constraint', s.relation, cmd.name))
      }
    }
  } else if (kind === 'DropStmt') {
    for (const o of Array.isArray(s.objects) ? s.objects : []) {
      const items = unwrap(o)?.[1].items
      if (s.removeType === 'OBJECT_INDEX') keys.push(indexKey(lastName(items)))
      else if (s.removeType === 'OBJECT_TRIGGER' && Array.isArray(items)) {
        keys.push(`trigger:${nameOf(items.slice(0, -1))}.${lastName(items)}`)
      } else if (s.removeType === 'OBJECT_TABLE') tables.push(relationKey(nameOf(items)))
    }
  }
  return { keys, tables }
}

/**
 * Records what a top-level statement defined and dropped. Before forgetting a dropped definition it
 * keeps it for this statement (`state.droppedDefinitions`), so that the end of the script can compare
 * it with a re-creation. Renames make the knowledge of the renamed table's objects go: fail closed.
 */
export function learnDefinitions(state: ScriptState, kind: string, s: Fields, statement: number): void {
  const known = state.history.definitions
  if (kind === 'RenameStmt') {
    renameDefinitions(known, s)
    return
  }
  if (kind === 'AlterObjectSchemaStmt') {
    // A table moved to another schema: what we hold under its old name goes (fail closed).
    const table = relationKey(rangeVarName(s.relation))
    for (const [key] of ofTable(known, table)) deleteDef(known, key)
    return
  }
  const { keys, tables } = definitionsDropped(kind, s)
  if (keys.length > 0 || tables.length > 0) {
    const before = new Map<string, KnownDefinition>()
    for (const key of keys) {
      const def = getDef(known, key)
      if (def !== undefined) before.set(key, def)
      deleteDef(known, key)
    }
    for (const table of tables) {
      for (const [key, def] of ofTable(known, table)) if (def.table === table) deleteDef(known, key)
    }
    if (before.size > 0) state.droppedDefinitions.set(statement, before)
  }
  for (const [key, def] of definitionsMade(kind, s)) setDef(known, key, def)
}

/**
 * Follows a rename: a table's constraints and triggers move to its new name (and foreign keys to it
 * follow), a column's rename makes every definition that names it incomparable (its shape holds the
 * old name) while a key's columns follow it, and a renamed index, constraint or trigger moves.
 */
function renameDefinitions(known: KnownDefinitions, s: Fields): void {
  const newName = typeof s.newname === 'string' ? s.newname : undefined
  const table = relationKey(rangeVarName(s.relation))
  if (newName === undefined) return
  switch (s.renameType) {
    case 'OBJECT_TABLE': {
      const schema = (s.relation as Fields | undefined)?.schemaname
      const renamed = relationKey(typeof schema === 'string' ? `${schema}.${newName}` : newName)
      for (const [key, def] of ofTable(known, table)) {
        deleteDef(known, key)
        const moved: KnownDefinition = {
          ...def,
          table: def.table === table ? renamed : def.table,
          ...(def.references === table ? { references: renamed } : {}),
        }
        const prefix = key.slice(0, key.indexOf(':') + 1)
        const rest = key.slice(prefix.length)
        const own = `${rangeVarName(s.relation)}.`
        const rekeyed =
          def.table === table && rest.startsWith(own)
            ? `${prefix}${typeof schema === 'string' ? `${schema}.` : ''}${newName}.${rest.slice(own.length)}`
            : key
        setDef(known, rekeyed, moved)
      }
      return
    }
    case 'OBJECT_COLUMN': {
      const column = typeof s.subname === 'string' ? s.subname : ''
      for (const [key, def] of ofTable(known, table)) {
        if (def.table !== table || !def.shape.includes(JSON.stringify(column))) continue
        setDef(known, key, {
          ...def,
          shape: `${def.shape}|renamed ${column}`,
          ...(def.unique === undefined ? {} : { unique: def.unique.map((c) => (c === column ? newName : c)).sort() }),
          ...(def.columns === undefined ? {} : { columns: def.columns.map((c) => (c === column ? newName : c)) }),
        })
      }
      return
    }
    case 'OBJECT_INDEX': {
      const relname = String((s.relation as Fields | undefined)?.relname ?? '')
      const def = getDef(known, indexKey(relname))
      deleteDef(known, indexKey(relname))
      if (def !== undefined) setDef(known, indexKey(newName), def)
      return
    }
    case 'OBJECT_TABCONSTRAINT':
    case 'OBJECT_TRIGGER': {
      const kind = s.renameType === 'OBJECT_TRIGGER' ? 'trigger' : 'constraint'
      const from = tableObjectKey(kind, s.relation, String(s.subname ?? ''))
      const def = getDef(known, from)
      deleteDef(known, from)
      if (def !== undefined) setDef(known, tableObjectKey(kind, s.relation, newName), def)
      return
    }
  }
}
