/**
 * What one run kept, item by item, as stored in `ddl_undo.runs.items` (JSON). `ddl undo` reads them in
 * reverse order and applies each one's inverse.
 */
export type KeptItem = KeptRows | KeptTable | KeptDefinitions | KeptColumn | KeptRetype | KeptSchema

/** Rows a DELETE, UPDATE, MERGE or TRUNCATE removed or changed, from one table. */
export interface KeptRows {
  readonly kind: 'rows'
  /** 0-based index of the statement in its run. */
  readonly statement: number
  /** `dml`: old (and new) versions captured by a transition-table trigger; `truncate`: a copy made first. */
  readonly op: 'dml' | 'truncate'
  readonly relid: number
  /** The table's qualified name when it was kept. */
  readonly relation: string
  /** Table in `ddl_undo` holding the old versions (deleted rows, rows before an update). */
  readonly oldTable: string | null
  /** Table in `ddl_undo` holding the new versions (rows after an update, rows a MERGE inserted). */
  readonly newTable: string | null
  oldRows: number
  newRows: number
  /** Sequences owned by the table and their values before the statement (TRUNCATE ... RESTART IDENTITY). */
  readonly sequences: readonly { readonly relid: number; readonly lastValue: string; readonly isCalled: boolean }[]
}

/** A dropped table, moved into `ddl_undo` under a kept name, with what its drop removed around it. */
export interface KeptTable {
  readonly kind: 'table'
  readonly statement: number
  readonly relid: number
  readonly schema: string
  readonly name: string
  readonly keptName: string
  /** Indexes and owned sequences renamed to kept names (they move with the table). */
  readonly renamed: readonly { readonly kind: 'INDEX' | 'SEQUENCE'; readonly name: string; readonly keptName: string }[]
  /** Foreign keys between the table and other tables, dropped (as the drop would) and kept as definitions. */
  readonly foreignKeys: readonly ForeignKeyDef[]
  /** Views and materialized views the drop's CASCADE removed, recreated after the table comes back. */
  readonly dependents: readonly ObjectDef[]
}

/** A foreign key dropped with its definition. */
export interface ForeignKeyDef {
  /** The table the constraint is on. */
  readonly relid: number
  readonly name: string
  readonly definition: string
}

/** A dropped object kept as the SQL that recreates it. */
export interface ObjectDef {
  /** `view public.v`, `index public.i`, `function public.f(integer)`, ... */
  readonly object: string
  /** A query whose single boolean column `taken` is true when the name is taken again (a conflict). */
  readonly exists: string
  /** Statements that recreate it with its grants, comments and owner, in order. */
  readonly create: readonly string[]
}

/** Definitions of dropped objects (views, indexes, functions, triggers, policies). */
export interface KeptDefinitions {
  readonly kind: 'definitions'
  readonly statement: number
  readonly objects: readonly ObjectDef[]
}

/** A dropped column: its definition, and its values by primary key. */
export interface KeptColumn {
  readonly kind: 'column'
  readonly statement: number
  readonly relid: number
  readonly relation: string
  /** The column's name, unquoted. */
  readonly column: string
  /** `ADD COLUMN` body after the name: type, collation, or `GENERATED ALWAYS AS (...) STORED`. */
  readonly definition: string
  /** Statements run after the values are back: default, NOT NULL, identity, comment, grants. */
  readonly after: readonly string[]
  /** The primary key's columns, quoted. */
  readonly key: readonly string[]
  /**
   * How values find their rows again: `key` by primary key; `row` (no usable primary key) by the
   * row's other columns (`to_jsonb(row) - column`), each distinct rest holding one value.
   */
  readonly match: 'key' | 'row'
  /**
   * Columns (unquoted) a `row` match leaves out: every column the statement dropped or retyped.
   * Absent in runs kept before it existed: the column alone.
   */
  readonly lost?: readonly string[]
  /** Table in `ddl_undo` holding key and value (null for a generated column: it is recomputed). */
  readonly valuesTable: string | null
  rows: number
  /** Indexes, constraints and (with CASCADE) views that went with the column. */
  readonly dependents: readonly ObjectDef[]
}

/**
 * A column whose type ALTER COLUMN ... TYPE changed: its old type, default and NOT NULL, its old
 * values by primary key (or by the row's other columns), and the values the run left (to see later
 * changes). Indexes and constraints on it are rebuilt by Postgres both ways.
 */
export interface KeptRetype {
  readonly kind: 'retype'
  readonly statement: number
  readonly relid: number
  readonly relation: string
  /** The column's name, unquoted. */
  readonly column: string
  /** `format_type` of the old type. */
  readonly type: string
  /** `COLLATE "x"` when the old collation was not the type's default, else ''. */
  readonly collate: string
  /** The old default expression (none for identity and generated columns). */
  readonly default: string | null
  readonly notNull: boolean
  /** A generated column: its values are recomputed, not kept. */
  readonly generated: boolean
  /** The primary key's columns, quoted (`key` match). */
  readonly key: readonly string[]
  readonly match: 'key' | 'row'
  /** Columns (unquoted) a `row` match leaves out. */
  readonly lost: readonly string[]
  /** Table in `ddl_undo` with the key (or the row's other columns) and the old value. */
  readonly valuesTable: string | null
  /**
   * Check constraints and indexes on the column, as they were: Postgres rebuilds them from their
   * text on each type change, so an undo sets back any whose text came back different.
   */
  readonly rebuilt?: readonly {
    readonly kind: 'constraint' | 'index'
    readonly name: string
    readonly definition: string
    readonly comment: string | null
  }[]
  /** Table in `ddl_undo` with the key and the value the run left; set after the statement. */
  newTable: string | null
  /** `format_type` (and collation) the run left, set after the statement: a later type change is a conflict. */
  newType: string | null
  rows: number
}

/** A dropped schema, renamed to a kept name with everything in it, and what its CASCADE removed outside it. */
export interface KeptSchema {
  readonly kind: 'schema'
  readonly statement: number
  readonly oid: number
  readonly name: string
  readonly keptName: string
  /** GRANT statements that rebuild the schema's privileges (revoked while it is kept). */
  readonly grants: readonly string[]
  /** Foreign keys of tables outside the schema that referenced tables in it. */
  readonly foreignKeys: readonly ForeignKeyDef[]
  /** Views outside the schema that the CASCADE removed, in creation order. */
  readonly dependents: readonly ObjectDef[]
}

/** What was kept from a run, as results and `ddl undo --list` show it. */
export interface UndoSummary {
  /** Give this to `ddl undo` / `PostgresAPI.undo()`. */
  readonly id: string
  /** The objects whose rows or definitions were kept. */
  readonly objects: readonly string[]
  /** Rows kept per table. */
  readonly rows: Readonly<Record<string, number>>
  /** Bytes the kept copies hold (moved tables count their whole size). */
  readonly sizeBytes: number
  /**
   * Statements run differently than written, to keep what they remove: `DROP TABLE orders` moves
   * the table into `ddl_undo` instead (and drops what its CASCADE would).
   */
  readonly substituted: readonly { readonly index: number; readonly sent: string }[]
  /** Statements of the run whose effect cannot be undone, and why. */
  readonly notKept: readonly { readonly index: number; readonly reason: string }[]
}
