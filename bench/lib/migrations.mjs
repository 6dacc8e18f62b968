/**
 * A deterministic folder of everyday migration files (the same bytes on every machine and run), written
 * to a temp directory and never committed: CREATE TABLE with 5-15 columns, indexes, ALTER TABLE ADD
 * COLUMN / ADD CONSTRAINT (foreign keys, checks, uniques), a few seed INSERTs and UPDATE backfills.
 * All of it runs in one transaction per file (no CONCURRENTLY), so `psql -1 -f` can apply each file.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** mulberry32: a small seeded PRNG. */
function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const NOUNS = [
  'accounts',
  'users',
  'teams',
  'projects',
  'invoices',
  'payments',
  'orders',
  'order_items',
  'products',
  'prices',
  'subscriptions',
  'plans',
  'coupons',
  'shipments',
  'addresses',
  'comments',
  'posts',
  'tags',
  'events',
  'webhooks',
  'api_keys',
  'sessions',
  'audit_events',
  'notifications',
  'campaigns',
  'contacts',
  'leads',
  'deals',
  'tickets',
  'attachments',
  'reports',
  'dashboards',
  'widgets',
  'exports',
  'imports',
  'jobs',
  'schedules',
  'regions',
  'warehouses',
  'suppliers',
]

const COLUMN_NAMES = [
  'name',
  'title',
  'email',
  'status',
  'kind',
  'description',
  'amount_cents',
  'currency',
  'quantity',
  'priority',
  'external_id',
  'slug',
  'notes',
  'is_active',
  'is_archived',
  'starts_at',
  'ends_at',
  'due_on',
  'score',
  'metadata',
  'position',
  'locale',
  'timezone',
  'version',
  'checksum',
  'source',
  'country_code',
  'phone',
  'url',
  'rating',
]

const TYPES = [
  ['text', "''"],
  ['varchar(255)', "''"],
  ['integer', '0'],
  ['bigint', '0'],
  ['boolean', 'false'],
  ['numeric(12,2)', '0'],
  ['timestamptz', 'now()'],
  ['date', 'current_date'],
  ['jsonb', "'{}'::jsonb"],
  ['uuid', 'gen_random_uuid()'],
]

/** Generates `count` migration files into `dir` (created); returns their names in order. */
export function generateMigrations(dir, count = 150, seed = 20240611) {
  mkdirSync(dir, { recursive: true })
  const rand = prng(seed)
  const pick = (list) => list[Math.floor(rand() * list.length)]
  const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1))
  const tables = [] // { name, columns: [{ name, type }] }
  const names = []
  const used = new Set()
  let indexNo = 0
  let constraintNo = 0

  const newTable = () => {
    let base = pick(NOUNS)
    let name = base
    for (let i = 2; used.has(name); i++) name = `${base}_${i}`
    used.add(name)
    base = name
    const columns = []
    const lines = ['  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY']
    const parent = tables.length > 0 && rand() < 0.6 ? pick(tables) : undefined
    if (parent !== undefined) {
      const fk = `${parent.name.replace(/s$/, '')}_id`
      lines.push(`  ${fk} bigint NOT NULL REFERENCES ${parent.name} (id) ON DELETE CASCADE`)
      columns.push({ name: fk, type: 'bigint' })
    }
    const n = Math.max(1, int(5, 15) - lines.length - 2)
    const taken = new Set(columns.map((c) => c.name))
    for (let i = 0; i < n; i++) {
      let col = pick(COLUMN_NAMES)
      if (taken.has(col)) col = `${col}_${i}`
      taken.add(col)
      const [type, dflt] = pick(TYPES)
      const notNull = rand() < 0.5
      lines.push(`  ${col} ${type}${notNull ? ` NOT NULL DEFAULT ${dflt}` : rand() < 0.3 ? ` DEFAULT ${dflt}` : ''}`)
      columns.push({ name: col, type })
    }
    lines.push('  created_at timestamptz NOT NULL DEFAULT now()', '  updated_at timestamptz NOT NULL DEFAULT now()')
    const table = { name, columns }
    tables.push(table)
    const sql = [`CREATE TABLE ${name} (\n${lines.join(',\n')}\n);`]
    if (parent !== undefined) sql.push(`CREATE INDEX ${name}_${columns[0].name}_idx ON ${name} (${columns[0].name});`)
    if (rand() < 0.5) {
      const col = pick(columns)
      sql.push(`CREATE INDEX ${name}_${col.name}_idx_${++indexNo} ON ${name} (${col.name});`)
    }
    if (rand() < 0.4) sql.push(`COMMENT ON TABLE ${name} IS 'The ${name.replaceAll('_', ' ')} of an account.';`)
    if (parent === undefined && rand() < 0.3) sql.push(`INSERT INTO ${name} DEFAULT VALUES;`)
    return { slug: `create_${name}`, sql }
  }

  const addColumn = () => {
    const table = pick(tables)
    const col = `${pick(COLUMN_NAMES)}_a${table.columns.length + 1}`
    const [type, dflt] = pick(TYPES)
    table.columns.push({ name: col, type })
    const sql = [
      `ALTER TABLE ${table.name} ADD COLUMN ${col} ${type}${rand() < 0.5 ? ` DEFAULT ${dflt}` : ''};`,
      `COMMENT ON COLUMN ${table.name}.${col} IS 'Added for the ${pick(NOUNS)} report.';`,
    ]
    if (rand() < 0.5) sql.push(`CREATE INDEX ${table.name}_${col}_idx ON ${table.name} (${col});`)
    return { slug: `add_${col}_to_${table.name}`, sql }
  }

  const addConstraint = () => {
    const table = pick(tables)
    const kind = rand()
    const name = `${table.name}_c${++constraintNo}`
    if (kind < 0.4 && tables.length > 1) {
      const other = pick(tables.filter((t) => t !== table))
      const col = `${other.name.replace(/s$/, '')}_ref_${constraintNo}`
      table.columns.push({ name: col, type: 'bigint' })
      return {
        slug: `reference_${other.name}_from_${table.name}`,
        sql: [
          `ALTER TABLE ${table.name} ADD COLUMN ${col} bigint;`,
          `ALTER TABLE ${table.name} ADD CONSTRAINT ${name}_fkey FOREIGN KEY (${col}) REFERENCES ${other.name} (id);`,
          `CREATE INDEX ${table.name}_${col}_idx ON ${table.name} (${col});`,
        ],
      }
    }
    if (kind < 0.7) {
      return {
        slug: `check_created_at_on_${table.name}`,
        sql: [`ALTER TABLE ${table.name} ADD CONSTRAINT ${name}_check CHECK (created_at <= updated_at);`],
      }
    }
    const col = `code_${constraintNo}`
    table.columns.push({ name: col, type: 'text' })
    return {
      slug: `unique_${col}_on_${table.name}`,
      sql: [
        `ALTER TABLE ${table.name} ADD COLUMN ${col} text;`,
        `ALTER TABLE ${table.name} ADD CONSTRAINT ${name}_key UNIQUE (${col});`,
      ],
    }
  }

  const backfill = () => {
    const table = pick(tables)
    const col = `${pick(['status', 'kind', 'source', 'locale'])}_v${table.columns.length + 1}`
    table.columns.push({ name: col, type: 'text' })
    return {
      slug: `backfill_${col}_on_${table.name}`,
      sql: [
        `ALTER TABLE ${table.name} ADD COLUMN ${col} text;`,
        `UPDATE ${table.name}\n   SET ${col} = 'default'\n WHERE ${col} IS NULL\n   AND created_at < now();`,
        `ALTER TABLE ${table.name} ALTER COLUMN ${col} SET DEFAULT 'default';`,
      ],
    }
  }

  for (let i = 1; i <= count; i++) {
    const r = rand()
    const step =
      tables.length < 8 || r < 0.35 ? newTable() : r < 0.7 ? addColumn() : r < 0.9 ? addConstraint() : backfill()
    const name = `${String(i).padStart(4, '0')}_${step.slug}.sql`
    names.push(name)
    writeFileSync(join(dir, name), `-- Migration ${i}: ${step.slug.replaceAll('_', ' ')}\n\n${step.sql.join('\n\n')}\n`)
  }
  return names
}
