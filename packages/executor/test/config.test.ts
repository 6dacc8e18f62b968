import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  connectionSettings,
  DEFAULT_TIMEOUTS,
  loadConfig,
  loadEnv,
  parseConfig,
  resolveConnection,
} from '@ddl/executor/internal'
import { describe, expect, it } from 'vitest'

const dir = () => mkdtempSync(join(tmpdir(), 'ddl-config-'))
const seed = {
  config: { projects: { smoothed: 'SUPABASE_POSTGRES_URL', blingsting: 'SUPABASE_POSTGRES_URL_2' } },
  path: '/p/ddl.config.json',
}

describe('ddl.config.json', () => {
  it('is optional: no file is an empty configuration', () => {
    expect(loadConfig(dir())._unsafeUnwrap()).toEqual({ config: {}, path: undefined })
  })

  it('reads projects, policy, timeouts and the audit path (relative to the file)', () => {
    const d = dir()
    writeFileSync(
      join(d, 'ddl.config.json'),
      JSON.stringify({
        projects: { smoothed: 'SUPABASE_POSTGRES_URL' },
        policy: { rules: { truncate: 'destructive' } },
        timeouts: { lockTimeoutMs: 2000 },
        audit: { path: 'logs/audit.jsonl' },
        somethingForAnotherTool: true,
      }),
    )
    const loaded = loadConfig(d)._unsafeUnwrap()
    expect(loaded.config).toEqual({
      projects: { smoothed: 'SUPABASE_POSTGRES_URL' },
      policy: { rules: { truncate: 'destructive' } },
      timeouts: { lockTimeoutMs: 2000 },
      audit: { path: join(d, 'logs/audit.jsonl') },
    })
  })

  it('refuses a connection string in place of a variable name, without echoing it', () => {
    const error = parseConfig(
      '{"projects":{"x":"postgres://u:Secret-77@h/d"}}',
      '/p/ddl.config.json',
    )._unsafeUnwrapErr()
    expect(error.message).toContain('must name an environment variable, not hold a connection string')
    expect(error.message).not.toContain('Secret-77')
  })

  it.each([
    ['{', 'is not valid JSON'],
    ['[]', 'must hold a JSON object'],
    ['{"projects":{"x":"has space"}}', 'is not an environment variable name'],
    ['{"timeouts":{"lockTimeout":5}}', 'unknown timeout "lockTimeout"'],
    ['{"timeouts":{"lockTimeoutMs":-1}}', 'whole number of milliseconds'],
    ['{"audit":{"path":3}}', '"audit.path" must be a file path'],
    ['{"policy":[]}', '"policy" must be an object'],
    ['{"policy":{"rules":{"drop-tabel":"safe"}}}', 'unknown rule "drop-tabel" in policy.rules'],
    ['{"policy":{"rules":{"unparsed-statement":"safe"}}}', 'cannot lower it'],
    ['{"policy":{"allow":[{"rule":"drop-table","objects":[]}]}}', 'non-empty list of names or globs'],
    ['{"policy":{"allowEffects":{}}}', '"policy.allowEffects" must be a list'],
    ['{"policy":{"allowEffects":[{"effects":["update"]}]}}', 'policy.allowEffects[0] needs a "table"'],
    [
      '{"policy":{"allowEffects":[{"table":"public.c","effects":["lift-guard"]}]}}',
      'effects must be a non-empty list of',
    ],
    ['{"maxRows":-1}', '"maxRows" must be a whole number of rows'],
    ['{"maxRows":1.5}', '"maxRows" must be a whole number of rows'],
  ])('refuses %s', (text, message) => {
    expect(parseConfig(text, '/p/ddl.config.json')._unsafeUnwrapErr().message).toContain(message)
  })
})

describe('effect check settings', () => {
  it('reads maxRows and policy.allowEffects', () => {
    const config = parseConfig(
      '{"maxRows":500,"policy":{"allowEffects":[{"table":"public.counters","effects":["update","delete"]}]}}',
      '/p/ddl.config.json',
    )._unsafeUnwrap()
    expect(config.maxRows).toBe(500)
    expect((config.policy as { allowEffects?: unknown }).allowEffects).toEqual([
      { table: 'public.counters', effects: ['update', 'delete'] },
    ])
  })
})

describe('.env', () => {
  it('adds variables without overriding those already set', () => {
    const d = dir()
    writeFileSync(join(d, '.env'), 'A=from-file\nB="quoted value"\n# comment\nexport C=3\n')
    expect(loadEnv(d, { A: 'from-env' })._unsafeUnwrap()).toEqual({ A: 'from-env', B: 'quoted value', C: '3' })
  })

  it('is optional', () => {
    expect(loadEnv(dir(), { A: '1' })._unsafeUnwrap()).toEqual({ A: '1' })
  })
})

describe('resolveConnection', () => {
  it('maps a project to its variable', () => {
    const env = { SUPABASE_POSTGRES_URL_2: 'postgres://u:p@h/d' }
    expect(resolveConnection('blingsting', seed, env)._unsafeUnwrap()).toEqual({
      project: 'blingsting',
      variable: 'SUPABASE_POSTGRES_URL_2',
      url: 'postgres://u:p@h/d',
    })
  })

  it('without a project prefers DDL_DATABASE_URL over DATABASE_URL', () => {
    const env = { DATABASE_URL: 'postgres://a@h/a', DDL_DATABASE_URL: 'postgres://b@h/b' }
    expect(resolveConnection(undefined, seed, env)._unsafeUnwrap().variable).toBe('DDL_DATABASE_URL')
  })

  it('names the projects when none is given and no variable is set', () => {
    expect(resolveConnection(undefined, seed, {})._unsafeUnwrapErr().message).toBe(
      'No database to connect to: set DDL_DATABASE_URL or DATABASE_URL (in the environment or .env). ' +
        "Or name a project: smoothed, blingsting (--project NAME, or new PostgresAPI('smoothed')).",
    )
  })

  it('explains that a project needs a ddl.config.json when there is none', () => {
    expect(resolveConnection('smoothed', { config: {}, path: undefined }, {})._unsafeUnwrapErr().message).toContain(
      'there is no ddl.config.json in this directory',
    )
  })

  it('refuses a URL that is not postgres://', () => {
    expect(resolveConnection(undefined, seed, { DATABASE_URL: 'mysql://u:p@h/d' })._unsafeUnwrapErr().message).toBe(
      'DATABASE_URL must start with postgres:// or postgresql://.',
    )
  })
})

describe('sslmode', () => {
  const settings = (query: string) => connectionSettings(`postgres://u:p@h/d${query}`, DEFAULT_TIMEOUTS)._unsafeUnwrap()

  it('tries TLS then plain text by default and for prefer', () => {
    expect(settings('').attempts).toEqual([{ rejectUnauthorized: false }, false])
    expect(settings('?sslmode=prefer').sslMode).toBe('prefer')
  })

  it('encrypts without verifying for require (libpq semantics, as Supabase needs)', () => {
    expect(settings('?sslmode=require').attempts).toEqual([{ rejectUnauthorized: false }])
  })

  it('verifies the certificate for verify-full and never falls back', () => {
    expect(settings('?sslmode=verify-full').attempts).toEqual([{ rejectUnauthorized: true }])
  })

  it('is plain text for disable', () => {
    expect(settings('?sslmode=disable').attempts).toEqual([false])
  })

  it('hands node-postgres a URL without ssl parameters, so it cannot override them', () => {
    const s = settings('?sslmode=require&sslrootcert=system&application_name=app')
    expect(s.base.connectionString).toBe('postgres://u:p@h/d?application_name=app')
    expect(settings('').base.connectionString).toBe('postgres://u:p@h/d?application_name=safe-ddl')
  })

  it('refuses an unknown sslmode and an unreadable certificate file', () => {
    expect(connectionSettings('postgres://h/d?sslmode=always', DEFAULT_TIMEOUTS)._unsafeUnwrapErr().message).toContain(
      'sslmode=always is not one of',
    )
    expect(
      connectionSettings(
        'postgres://h/d?sslmode=verify-ca&sslrootcert=/no/such.crt',
        DEFAULT_TIMEOUTS,
      )._unsafeUnwrapErr().message,
    ).toContain('Cannot read sslrootcert file /no/such.crt')
  })
})
