/**
 * A schema-only dump of a database written from `pg_catalog` queries, one line per fact, sorted: the
 * yardstick the round-trip tests and the drift report compare with. It is independent of the diff
 * engine (it shares no code with it), so the engine cannot grade its own work. `pg_dump` is not on
 * the machines this runs on (only Node.js and npm), hence this.
 */
import type pg from 'pg'
import { isToolTable } from './tool-tables.js'

/** One fact of a catalog dump: the object it belongs to, and the text that must match. */
export interface CatalogLine {
  /** `table public.users`, `column public.users.email`, `function public.f(integer)`, ... */
  readonly object: string
  /** The definition that must be equal on both sides. */
  readonly definition: string
}

/** Schemas no user migration owns. */
// Postgres's own schemas, and the ones undo keeps its copies in (the tool's, like its tables).
const SYSTEM_SCHEMA = `(n.nspname IN ('pg_catalog', 'information_schema', 'pg_toast', 'ddl_undo') OR n.nspname LIKE 'pg\\_temp\\_%' OR n.nspname LIKE 'pg\\_toast\\_temp\\_%' OR n.nspname LIKE 'ddl\\_undo\\_u%')`

/** Objects that belong to an extension are the extension's, not the schema's. */
const notExtensionMember = (classid: string, objid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${classid}'::regclass AND d.objid = ${objid} AND d.deptype = 'e')`

/**
 * An ACL (a missing one read as the owner's default, as pg_dump reads it) with its owner's role name replaced by `OWNER`: a throwaway server runs migrations as
 * `postgres`, the live database as its own role, and who owns an object is not what a diff manages.
 */
const ownerless = (acl: string, owner: string) =>
  `regexp_replace((${acl})::text, '(^|[{,/])' || quote_ident(pg_get_userbyid(${owner})) || '(?=[=,}/])', '\\1OWNER', 'g')`

const QUERIES: readonly string[] = [
  // schemas
  `SELECT 'schema ' || quote_ident(n.nspname) AS object, '' AS definition
     FROM pg_namespace n WHERE NOT ${SYSTEM_SCHEMA} AND ${notExtensionMember('pg_namespace', 'n.oid')}`,
  // extensions
  `SELECT 'extension ' || quote_ident(e.extname) AS object, n.nspname AS definition
     FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql'`,
  // relations: kind, persistence, RLS, partitioning, reloptions
  `SELECT 'relation ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS object,
          concat_ws(' ', c.relkind, c.relpersistence, 'rls=' || c.relrowsecurity::text, 'force=' || c.relforcerowsecurity::text,
                    'replident=' || c.relreplident::text, c.reloptions::text,
                    CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
                    CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END) AS definition
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND NOT ${SYSTEM_SCHEMA}
      AND ${notExtensionMember('pg_class', 'c.oid')}`,
  // column order of each table
  `SELECT 'columns ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS object,
          string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) AS definition
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT ${SYSTEM_SCHEMA}
      AND ${notExtensionMember('pg_class', 'c.oid')}
    GROUP BY n.nspname, c.relname`,
  // columns: type, nullability, default, identity, generated, collation
  `SELECT 'column ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(a.attname) AS object,
          concat_ws(' ', format_type(a.atttypid, a.atttypmod),
                    CASE WHEN a.attnotnull THEN 'not null' END,
                    CASE WHEN a.attidentity <> '' THEN 'identity ' || a.attidentity::text END,
                    CASE WHEN a.attgenerated <> '' THEN 'generated (' || pg_get_expr(ad.adbin, ad.adrelid) || ')'
                         WHEN ad.adbin IS NOT NULL THEN 'default ' || pg_get_expr(ad.adbin, ad.adrelid) END,
                    CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                         THEN 'collate ' || (SELECT collname FROM pg_collation WHERE oid = a.attcollation) END,
                    CASE WHEN a.attstorage <> t.typstorage THEN 'storage ' || a.attstorage::text END) AS definition
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     JOIN pg_type t ON t.oid = a.atttypid
     LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT ${SYSTEM_SCHEMA}
      AND ${notExtensionMember('pg_class', 'c.oid')}`,
  // constraints on tables and domains (NOT NULL rows of PG 17 are in the columns already)
  `SELECT 'constraint ' || quote_ident(n.nspname) || '.' ||
          quote_ident(coalesce(c.relname, t.typname)) || '.' || quote_ident(k.conname) AS object,
          pg_get_constraintdef(k.oid, true) || CASE WHEN k.condeferrable THEN ' deferrable' ELSE '' END
            || CASE WHEN k.convalidated THEN '' ELSE ' not valid' END AS definition
     FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
     LEFT JOIN pg_class c ON c.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid
    WHERE NOT ${SYSTEM_SCHEMA} AND k.contype <> 'n' AND (k.conrelid <> 0 OR k.contypid <> 0)
      AND (k.conrelid = 0 OR ${notExtensionMember('pg_class', 'k.conrelid')})`,
  // indexes (constraint-backed ones too: their definition shows their columns and method)
  `SELECT 'index ' || quote_ident(n.nspname) || '.' || quote_ident(i.relname) AS object,
          pg_get_indexdef(x.indexrelid) || CASE WHEN x.indisvalid THEN '' ELSE ' invalid' END AS definition
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
     JOIN pg_namespace n ON n.oid = i.relnamespace
    WHERE NOT ${SYSTEM_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')}`,
  // sequences
  `SELECT 'sequence ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS object,
          concat_ws(' ', format_type(s.seqtypid, null), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache,
                    s.seqcycle,
                    (SELECT 'owned by ' || quote_ident(tn.nspname) || '.' || quote_ident(tc.relname) || '.' || quote_ident(ta.attname)
                       FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
                       JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')
                        AND d.refclassid = 'pg_class'::regclass)) AS definition
     FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT ${SYSTEM_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')}`,
  // views and materialized views
  `SELECT 'view ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS object,
          pg_get_viewdef(c.oid, true) AS definition
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('v', 'm') AND NOT ${SYSTEM_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')}`,
  // functions, procedures, aggregates (aggregates by signature only)
  `SELECT 'function ' || p.oid::regprocedure::text AS object,
          CASE WHEN p.prokind = 'a' THEN 'aggregate' ELSE pg_get_functiondef(p.oid) END AS definition
     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE NOT ${SYSTEM_SCHEMA} AND ${notExtensionMember('pg_proc', 'p.oid')}`,
  // triggers
  `SELECT 'trigger ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(g.tgname) AS object,
          pg_get_triggerdef(g.oid, true) || ' enabled=' || g.tgenabled::text AS definition
     FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT g.tgisinternal AND NOT ${SYSTEM_SCHEMA}`,
  // rules (other than a view's own _RETURN)
  `SELECT 'rule ' || quote_ident(r.schemaname) || '.' || quote_ident(r.tablename) || '.' || quote_ident(r.rulename) AS object,
          r.definition FROM pg_rules r WHERE r.schemaname NOT IN ('pg_catalog', 'information_schema')`,
  // policies
  `SELECT 'policy ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(p.polname) AS object,
          concat_ws(' ', p.polcmd, p.polpermissive,
                    (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END, ',' ORDER BY 1)
                       FROM unnest(p.polroles) r),
                    'using (' || pg_get_expr(p.polqual, p.polrelid) || ')',
                    'check (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')') AS definition
     FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace`,
  // types: enums, composites, domains, ranges
  `SELECT 'type ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname) AS object,
          concat_ws(' ', t.typtype,
                    CASE WHEN t.typtype = 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                                                      FROM pg_enum e WHERE e.enumtypid = t.oid) END,
                    CASE WHEN t.typtype = 'c' THEN (SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                                                      FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) END,
                    CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END
                                                   || coalesce(' default ' || t.typdefault, '') END,
                    CASE WHEN t.typtype = 'r' THEN (SELECT format_type(r.rngsubtype, null) FROM pg_range r WHERE r.rngtypid = t.oid) END) AS definition
     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE t.typtype IN ('e', 'c', 'd', 'r') AND NOT ${SYSTEM_SCHEMA}
      AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
      AND ${notExtensionMember('pg_type', 't.oid')}`,
  // comments on anything outside the system schemas
  `SELECT 'comment ' || (pg_identify_object(d.classoid, d.objoid, d.objsubid)).type || ' ' ||
          (pg_identify_object(d.classoid, d.objoid, d.objsubid)).identity AS object, d.description AS definition
     FROM pg_description d
    WHERE (pg_identify_object(d.classoid, d.objoid, d.objsubid)).schema IS DISTINCT FROM 'pg_catalog'
      AND (pg_identify_object(d.classoid, d.objoid, d.objsubid)).schema IS DISTINCT FROM 'information_schema'
      AND NOT (d.classoid = 'pg_namespace'::regclass AND d.objoid = 'pg_catalog'::regnamespace)
      AND NOT (d.classoid = 'pg_namespace'::regclass AND EXISTS (SELECT 1 FROM pg_namespace n WHERE n.oid = d.objoid AND ${SYSTEM_SCHEMA}))
      AND NOT EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = (pg_identify_object(d.classoid, d.objoid, d.objsubid)).schema AND ${SYSTEM_SCHEMA})
      AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = d.classoid AND x.objid = d.objoid AND x.deptype = 'e')
      AND d.classoid <> 'pg_extension'::regclass AND d.objoid >= 16384`,
  // grants on relations, functions, schemas and types
  `SELECT 'acl relation ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS object,
          ${ownerless("coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", c.relowner))", 'c.relowner')} AS definition
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND NOT ${SYSTEM_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')}`,
  `SELECT 'acl function ' || p.oid::regprocedure::text AS object, ${ownerless('coalesce(p.proacl, acldefault(\'f\'::"char", p.proowner))', 'p.proowner')} AS definition
     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE NOT ${SYSTEM_SCHEMA} AND ${notExtensionMember('pg_proc', 'p.oid')}`,
  `SELECT 'acl schema ' || quote_ident(n.nspname) AS object, ${ownerless('coalesce(n.nspacl, acldefault(\'n\'::"char", n.nspowner))', 'n.nspowner')} AS definition
     FROM pg_namespace n WHERE NOT ${SYSTEM_SCHEMA} AND ${notExtensionMember('pg_namespace', 'n.oid')}`,
]

/**
 * Reads the catalog dump of the database `client` is connected to: one {@link CatalogLine} per
 * schema, relation, column, constraint, index, sequence, view, function, trigger, rule, policy,
 * type, extension, comment and grant outside Postgres's own schemas and extensions, sorted by object.
 * The tool's own tables (`public.ddl_migrations`, `public.ddl_migration_claims`) are left out.
 * Rejects with node-postgres's error.
 *
 * @example
 * const lines = await dumpCatalog(client) // [{ object: 'column public.users.email', definition: 'text not null' }, ...]
 */
export async function dumpCatalog(client: pg.ClientBase): Promise<CatalogLine[]> {
  const lines: CatalogLine[] = []
  for (const text of QUERIES) {
    const result = await client.query<{ object: string; definition: string | null }>(text)
    for (const row of result.rows) {
      if (isToolTable(row.object)) continue
      lines.push({ object: row.object, definition: row.definition ?? '' })
    }
  }
  return lines.sort((a, b) =>
    a.object < b.object ? -1 : a.object > b.object ? 1 : a.definition < b.definition ? -1 : 1,
  )
}

/** How two catalog dumps differ, by object. */
export interface CatalogDifference {
  /** Objects only in the second dump. */
  readonly added: readonly CatalogLine[]
  /** Objects only in the first dump. */
  readonly removed: readonly CatalogLine[]
  /** Objects in both, with another definition. */
  readonly changed: readonly { readonly object: string; readonly from: string; readonly to: string }[]
}

/**
 * Compares two catalog dumps object by object. Never throws.
 *
 * @example
 * const d = compareCatalogs(before, after) // { added: [...], removed: [], changed: [] }
 */
export function compareCatalogs(from: readonly CatalogLine[], to: readonly CatalogLine[]): CatalogDifference {
  const left = group(from)
  const right = group(to)
  const added: CatalogLine[] = []
  const removed: CatalogLine[] = []
  const changed: { object: string; from: string; to: string }[] = []
  for (const [object, definition] of left) {
    const other = right.get(object)
    if (other === undefined) removed.push({ object, definition })
    else if (other !== definition) changed.push({ object, from: definition, to: other })
  }
  for (const [object, definition] of right) if (!left.has(object)) added.push({ object, definition })
  return { added, removed, changed }
}

function group(lines: readonly CatalogLine[]): Map<string, string> {
  const map = new Map<string, string>()
  for (const line of lines) {
    const before = map.get(line.object)
    map.set(line.object, before === undefined ? line.definition : `${before}\n${line.definition}`)
  }
  return map
}
