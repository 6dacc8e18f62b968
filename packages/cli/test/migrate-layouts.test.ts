import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ddlMigrate, folder, freshDatabase, sql } from './migrate-support.js'

/** The fixture folders (one per layout), shared with the executor's tests. */
const FIXTURES = fileURLToPath(new URL('../../executor/test/fixtures/layouts/', import.meta.url))
const fixture = (name: string) => join(FIXTURES, name)
const workdir = () => mkdtempSync(join(tmpdir(), 'ddl-cli-layouts-cwd-'))

async function tables(url: string): Promise<string[]> {
  const rows = await sql<{ t: string }>(
    url,
    "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE 'ddl_%' ORDER BY 1",
  )
  return rows.map((r) => r.t)
}

async function tracked(url: string): Promise<{ name: string; transactional: boolean }[]> {
  return sql(url, 'SELECT name, transactional FROM public.ddl_migrations ORDER BY applied_at, name')
}

/** Every statement the audit log recorded as committed. */
function committed(cwd: string): string[] {
  return readFileSync(join(cwd, 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { outcome: string; statement: string })
    .filter((r) => r.outcome === 'committed')
    .map((r) => r.statement)
}

describe('ddl migrate: each layout is detected, named and applied in its own order', () => {
  const cases: {
    layout: string
    dir: string
    names: string[]
    tables: string[]
    outside?: string[]
  }[] = [
    {
      layout: 'flat layout',
      dir: 'flat',
      names: ['1_users.sql', '2_posts.sql', '10_tags.sql'],
      tables: ['posts', 'tags', 'users'],
    },
    {
      layout: 'Prisma layout',
      dir: 'prisma',
      names: ['20240101000000_users', '20240102000000_posts'],
      tables: ['posts', 'users'],
    },
    {
      layout: 'Supabase CLI layout',
      dir: 'supabase/supabase/migrations',
      names: ['20240101000000_users.sql', '20240102000000_posts.sql'],
      tables: ['posts', 'users'],
    },
    {
      layout: 'golang-migrate layout',
      dir: 'golang-migrate',
      names: ['000001_users.up.sql', '000002_posts.up.sql'],
      tables: ['posts', 'users'],
    },
    {
      layout: 'dbmate layout',
      dir: 'dbmate',
      names: ['20240101000000_users.sql', '20240102000000_posts.sql', '20240103000000_posts_user_index.sql'],
      tables: ['posts', 'users'],
      outside: ['20240103000000_posts_user_index.sql'],
    },
    {
      layout: 'node-pg-migrate layout',
      dir: 'node-pg-migrate',
      names: ['1704067200000_users.sql', '1704153600000_posts.sql'],
      tables: ['posts', 'users'],
    },
    {
      layout: 'Diesel layout',
      dir: 'diesel',
      names: [
        '00000000000000_diesel_initial_setup',
        '2024-01-01-000000_create_users',
        '2024-01-02-000000_create_posts',
        '2024-01-03-000000_index_posts',
      ],
      tables: ['posts', 'users'],
      outside: ['2024-01-03-000000_index_posts'],
    },
    {
      layout: 'Flyway layout',
      dir: 'flyway',
      names: ['V1__users.sql', 'V1.1__posts.sql', 'V2__tags.sql', 'R__post_counts.sql'],
      tables: ['post_counts', 'posts', 'tags', 'users'],
    },
    {
      layout: 'Drizzle layout',
      dir: 'drizzle',
      names: ['0000_users', '0001_posts'],
      tables: ['posts', 'users'],
    },
    {
      layout: 'postgres-migrations layout',
      dir: 'postgres-migrations',
      names: ['0001-users.sql', '0003-posts.sql', '0004-posts-index.sql'],
      tables: ['posts', 'users'],
      outside: ['0004-posts-index.sql'],
    },
  ]

  for (const c of cases) {
    it(`applies the ${c.dir} fixture as the ${c.layout}`, async () => {
      const url = await freshDatabase()
      const cwd = workdir()
      const r = await ddlMigrate(url, cwd, [fixture(c.dir)])
      expect(r.stderr.replace(/^ddl migrate: note: .*\n/gm, '')).toBe('')
      expect(r.code).toBe(0)
      expect(r.stdout.split('\n')[0]).toContain(`(${c.layout}`)
      expect(await tables(url)).toEqual(c.tables)
      const rows = await tracked(url)
      expect(rows.map((row) => row.name)).toEqual(c.names)
      expect(rows.filter((row) => !row.transactional).map((row) => row.name)).toEqual(c.outside ?? [])
      // Nothing that drops ever ran forward (down files and sections, ignored or stray files).
      expect(committed(cwd).filter((s) => /\bDROP\b/i.test(s))).toEqual([])
      const again = await ddlMigrate(url, cwd, [fixture(c.dir)])
      expect(again.code).toBe(0)
      expect(again.stdout).toContain('Nothing to apply')
    })
  }

  it('refuses a Rails structure.sql folder, pointing at ddl check', async () => {
    const url = await freshDatabase()
    const r = await ddlMigrate(url, workdir(), [fixture('rails/db')])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('holds a Rails structure.sql, a schema dump and not a migration')
    expect(r.stderr).toContain('ddl check')
  })

  it('notes the Drizzle file not in the journal and the postgres-migrations ignored file', async () => {
    const url = await freshDatabase()
    const cwd = workdir()
    const drizzle = await ddlMigrate(url, cwd, [fixture('drizzle')])
    expect(drizzle.stderr).toContain('Ignored 1 *.sql file not in meta/_journal.json: 0002_draft.sql.')
    const url2 = await freshDatabase()
    const pg = await ddlMigrate(url2, cwd, [fixture('postgres-migrations')])
    expect(pg.stderr).toContain('Skipped 1 file marked -- postgres-migrations ignore: 0002-legacy-cleanup.sql.')
  })
})

describe('the down-applied-forward trap (golang-migrate, dbmate)', () => {
  it('golang-migrate: .down.sql files, which sort before their .up.sql, never run forward', async () => {
    const url = await freshDatabase()
    const cwd = workdir()
    const plan = await ddlMigrate(url, cwd, [fixture('golang-migrate'), '--plan'])
    expect(plan.code).toBe(0)
    expect(plan.stdout).not.toContain('.down.sql')
    // With the flag a CI job passes for its legitimate destructive migrations, still no down runs.
    const r = await ddlMigrate(url, cwd, [fixture('golang-migrate'), '--i-know-what-im-doing'])
    expect(r.code).toBe(0)
    expect(r.stdout).not.toContain('.down.sql')
    expect(await tables(url)).toEqual(['posts', 'users'])
    expect(committed(cwd).join('\n')).not.toMatch(/DROP TABLE/)
  })

  it('dbmate: only the -- migrate:up section runs forward, even with --i-know-what-im-doing', async () => {
    const url = await freshDatabase()
    const cwd = workdir()
    const r = await ddlMigrate(url, cwd, [fixture('dbmate'), '--i-know-what-im-doing'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/applied {2}20240101000000_users\.sql +safe/)
    expect(await tables(url)).toEqual(['posts', 'users'])
    expect(committed(cwd).join('\n')).not.toMatch(/DROP/)
  })

  it('a dbmate file given alone runs its up section only; a file named as a down migration is refused', async () => {
    const url = await freshDatabase()
    const dir = folder({ '1_a.sql': '-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n' })
    const r = await ddlMigrate(url, workdir(), [dir])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('dbmate layout')
    expect(await tables(url)).toEqual(['a'])
    const down = folder({ 'create_a.sql': 'CREATE TABLE a (id int);\n', 'create_a.down.sql': 'DROP TABLE a;\n' })
    const refused = await ddlMigrate(url, workdir(), [down])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('named as down migrations (create_a.down.sql)')
    expect(refused.stderr).toContain('A down migration is never applied forward.')
  })

  it('a dbmate file with SQL before -- migrate:up, or two up sections, is refused before anything runs', async () => {
    const url = await freshDatabase()
    const dir = folder({
      '1_a.sql': '-- migrate:up\nCREATE TABLE a (id int);\n',
      '2_b.sql': 'DROP TABLE a;\n-- migrate:up\nCREATE TABLE b (id int);\n-- migrate:down\nDROP TABLE b;\n',
    })
    const r = await ddlMigrate(url, workdir(), [dir, '--i-know-what-im-doing'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('2_b.sql: line 1: dbmate file: SQL stands before -- migrate:up')
    expect(await tables(url)).toEqual([])
  })
})

describe('an unknown mixture is refused, naming what was found', () => {
  it('golang-migrate files beside plain files and a Prisma folder', async () => {
    const url = await freshDatabase()
    const dir = folder({
      '000001_a.up.sql': 'CREATE TABLE a (id int);\n',
      '000001_a.down.sql': 'DROP TABLE a;\n',
      'seed.sql': 'CREATE TABLE s (id int);\n',
      '20240101000000_init/migration.sql': 'CREATE TABLE p (id int);\n',
    })
    const r = await ddlMigrate(url, workdir(), [dir])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('mixes 3 layouts (what several migration tools write)')
    expect(r.stderr).toContain('2 golang-migrate *.up.sql/*.down.sql files (e.g. 000001_a.down.sql, 000001_a.up.sql)')
    expect(r.stderr).toContain('1 plain *.sql files (e.g. seed.sql)')
    expect(r.stderr).toContain('1 Prisma folders (<name>/migration.sql) (e.g. 20240101000000_init/migration.sql)')
    expect(await tables(url)).toEqual([])
  })
})

describe('ddl migrate down', () => {
  for (const c of [
    { dir: 'golang-migrate', last: '000002_posts.up.sql', table: 'posts' },
    { dir: 'dbmate', last: '20240103000000_posts_user_index.sql', index: 'posts_user_id' },
    { dir: 'node-pg-migrate', last: '1704153600000_posts.sql', table: 'posts' },
    { dir: 'diesel', last: '2024-01-03-000000_index_posts', index: 'posts_user_id' },
    { dir: 'flyway', last: 'V2__tags.sql', table: 'tags' },
  ]) {
    it(`reverts the last ${c.dir} migration through the same gate, and removes its tracking row`, async () => {
      const url = await freshDatabase()
      const cwd = workdir()
      expect((await ddlMigrate(url, cwd, [fixture(c.dir)])).code).toBe(0)
      const before = (await tracked(url)).map((r) => r.name)
      if (c.table !== undefined) {
        // A down that drops a table is destructive: refused without the flag, and nothing runs.
        const refused = await ddlMigrate(url, cwd, ['down', fixture(c.dir)])
        expect(refused.code).toBe(1)
        expect(refused.stderr).toContain(`${c.last}: destructive file: needs --i-know-what-im-doing.`)
        expect((await tracked(url)).map((r) => r.name)).toEqual(before)
      }
      const r = await ddlMigrate(url, cwd, ['down', fixture(c.dir), '--i-know-what-im-doing'])
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      expect(r.stdout).toContain('1 to revert.')
      expect(r.stdout).toMatch(new RegExp(`reverted {2}${c.last.replaceAll('.', '\\.')}`))
      expect(r.stdout).toMatch(/Reverted 1 migration in \d+ ms\./)
      expect((await tracked(url)).map((row) => row.name)).toEqual(before.filter((n) => n !== c.last))
      if (c.table !== undefined) expect(await tables(url)).not.toContain(c.table)
      if (c.index !== undefined) {
        expect(await sql(url, `SELECT to_regclass('public.${c.index}') AS i`)).toEqual([{ i: null }])
      }
      // Applying again re-applies exactly the reverted migration.
      const again = await ddlMigrate(url, cwd, [fixture(c.dir)])
      expect(again.code).toBe(0)
      expect(again.stdout).toContain('1 pending.')
    })
  }

  it('reverts N migrations, latest first, and refuses a layout without down migrations', async () => {
    const url = await freshDatabase()
    const cwd = workdir()
    await ddlMigrate(url, cwd, [fixture('golang-migrate')])
    const r = await ddlMigrate(url, cwd, ['down', fixture('golang-migrate'), '2', '--i-know-what-im-doing'])
    expect(r.code).toBe(0)
    expect(r.stdout.indexOf('000002_posts.up.sql')).toBeLessThan(r.stdout.indexOf('000001_users.up.sql'))
    expect(await tables(url)).toEqual([])
    expect(await tracked(url)).toEqual([])
    const flat = await freshDatabase()
    await ddlMigrate(flat, cwd, [fixture('flat')])
    const none = await ddlMigrate(flat, cwd, ['down', fixture('flat')])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('Migration 10_tags.sql has no down migration (flat layout, which has none)')
  })
})

describe('Flyway repeatables', () => {
  it('applies R__ after the versioned files, and again when it changes', async () => {
    const url = await freshDatabase()
    const cwd = workdir()
    const dir = mkdtempSync(join(tmpdir(), 'ddl-flyway-'))
    cpSync(fixture('flyway'), dir, { recursive: true })
    expect((await ddlMigrate(url, cwd, [dir])).code).toBe(0)
    writeFileSync(
      join(dir, 'R__post_counts.sql'),
      'CREATE OR REPLACE VIEW post_counts AS SELECT user_id, count(*) AS posts, max(id) AS last_post FROM posts GROUP BY user_id;\n',
    )
    const r = await ddlMigrate(url, cwd, [dir])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('1 pending.')
    expect(r.stdout).toContain('applied  R__post_counts.sql')
    const columns = await sql<{ c: string }>(
      url,
      "SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'post_counts' ORDER BY ordinal_position",
    )
    expect(columns.map((c) => c.c)).toEqual(['user_id', 'posts', 'last_post'])
    expect((await tracked(url)).map((t) => t.name)).toHaveLength(4)
  })
})
