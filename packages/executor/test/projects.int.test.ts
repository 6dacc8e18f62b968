/**
 * Named projects, as in the seed: `new PostgresAPI('smoothed')` with three Supabase projects whose
 * connection strings live in SUPABASE_POSTGRES_URL, _2 and _3.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { PostgresAPI, unwrap } from '@ddl/executor'
import { afterAll, describe, expect, it } from 'vitest'
import { testDatabase } from '../../../test/support/database.js'

const smoothed = testDatabase('smoothed')
const blingsting = testDatabase('blingsting')
const scraping = testDatabase('scraping')

const apis: PostgresAPI[] = []
afterAll(async () => {
  for (const api of apis) await api.close()
})

/** A project directory with the seed's ddl.config.json, optionally a .env. */
function projectDir(dotenv?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ddl-projects-'))
  writeFileSync(
    join(dir, 'ddl.config.json'),
    JSON.stringify({
      projects: {
        smoothed: 'SUPABASE_POSTGRES_URL',
        blingsting: 'SUPABASE_POSTGRES_URL_2',
        scraping: 'SUPABASE_POSTGRES_URL_3',
      },
    }),
  )
  if (dotenv !== undefined) writeFileSync(join(dir, '.env'), dotenv)
  return dir
}

function api(project: string | undefined, dir: string, env: Record<string, string>): PostgresAPI {
  const db = new PostgresAPI(project, { cwd: dir, env, auditPath: join(dir, 'audit.jsonl') })
  apis.push(db)
  return db
}

const currentDatabase = async (db: PostgresAPI) =>
  (await unwrap(db.query<{ d: string }>('SELECT current_database() AS d'))).rows[0]?.d

describe('named projects', () => {
  it('works with all three Supabase projects of the seed', async () => {
    const dir = projectDir()
    const env = {
      SUPABASE_POSTGRES_URL: smoothed.url,
      SUPABASE_POSTGRES_URL_2: blingsting.url,
      SUPABASE_POSTGRES_URL_3: scraping.url,
    }
    const names = { smoothed: smoothed.name, blingsting: blingsting.name, scraping: scraping.name }
    for (const [project, database] of Object.entries(names)) {
      const db = api(project, dir, env)
      expect(db.project).toBe(project)
      await unwrap(db.execute(`CREATE TABLE only_in_${project} (id int)`))
      expect(await currentDatabase(db)).toBe(database)
      expect(await unwrap(db.tableExists(`only_in_${project}`))).toBe(true)
    }
    expect(await unwrap(api('smoothed', dir, env).tableExists('only_in_scraping'))).toBe(false)
  })

  it('reads connection strings from .env without overriding the environment', async () => {
    const dir = projectDir(`SUPABASE_POSTGRES_URL=${smoothed.url}\nSUPABASE_POSTGRES_URL_2="${scraping.url}"\n`)
    expect(await currentDatabase(api('smoothed', dir, {}))).toBe(smoothed.name)
    expect(await currentDatabase(api('blingsting', dir, {}))).toBe(scraping.name)
    expect(await currentDatabase(api('blingsting', dir, { SUPABASE_POSTGRES_URL_2: blingsting.url }))).toBe(
      blingsting.name,
    )
  })

  it('names the configured projects when the project is unknown', async () => {
    const error = (await api('smothed', projectDir(), {}).execute('SELECT 1'))._unsafeUnwrapErr()
    expect(error.kind).toBe('ConfigError')
    expect(error.message).toContain('Unknown project "smothed". Configured projects: smoothed, blingsting, scraping.')
  })

  it('fails an unknown project even for a dry run', async () => {
    const error = (await api('nope', projectDir(), {}).execute('SELECT 1', { dryRun: true }))._unsafeUnwrapErr()
    expect(error.kind).toBe('ConfigError')
  })

  it('says which variable to set when a project has none', async () => {
    const error = (await api('scraping', projectDir(), {}).execute('SELECT 1'))._unsafeUnwrapErr()
    expect(error.message).toContain('Project "scraping" reads its connection string from SUPABASE_POSTGRES_URL_3')
    expect(error.message).toContain('Add SUPABASE_POSTGRES_URL_3=postgres://... to .env')
  })

  it('without a project uses DDL_DATABASE_URL, then DATABASE_URL', async () => {
    const dir = projectDir()
    expect(await currentDatabase(api(undefined, dir, { DATABASE_URL: scraping.url }))).toBe(scraping.name)
    expect(
      await currentDatabase(api(undefined, dir, { DATABASE_URL: scraping.url, DDL_DATABASE_URL: blingsting.url })),
    ).toBe(blingsting.name)
  })

  it('never shows a connection string that is not a URL', async () => {
    const secret = 'host=db password=Zebra-Secret-42'
    const error = (await api(undefined, projectDir(), { DATABASE_URL: secret }).query('SELECT 1'))._unsafeUnwrapErr()
    expect(error.kind).toBe('ConfigError')
    expect(error.message).toContain('DATABASE_URL is not a valid URL')
    expect(inspect(error, { depth: 10 })).not.toContain('Zebra-Secret-42')
  })
})

describe('TLS as the URL asks', () => {
  it('connects in plain text when the server has no TLS and the URL does not require it', async () => {
    expect(await currentDatabase(api(undefined, projectDir(), { DATABASE_URL: smoothed.url }))).toBe(smoothed.name)
    const prefer = `${smoothed.url}?sslmode=prefer`
    expect(await currentDatabase(api(undefined, projectDir(), { DATABASE_URL: prefer }))).toBe(smoothed.name)
    const disable = `${smoothed.url}?sslmode=disable`
    expect(await currentDatabase(api(undefined, projectDir(), { DATABASE_URL: disable }))).toBe(smoothed.name)
  })

  it('refuses to fall back to plain text when the URL says sslmode=require', async () => {
    const url = `${smoothed.url}?sslmode=require`
    const error = (await api(undefined, projectDir(), { DATABASE_URL: url }).query('SELECT 1'))._unsafeUnwrapErr()
    expect(error.kind).toBe('ConnectionError')
    expect(error.message).toContain('TLS failed')
    expect(inspect(error, { depth: 10 })).not.toContain(smoothed.password)
  })
})
