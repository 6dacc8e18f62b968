import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadSettings, parseServerArgs } from '../src/index.js'

const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

async function withConfig(config?: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ddl-mcp-settings-'))
  dirs.push(dir)
  if (config !== undefined) await writeFile(join(dir, 'ddl.config.json'), JSON.stringify(config))
  return dir
}

describe('loadSettings', () => {
  it('defaults to safe only, both approval channels, 15 minutes, the default project', async () => {
    const cwd = await withConfig()
    const s = loadSettings({ cwd }, { HOME: '/home/ada' })._unsafeUnwrap()
    expect(s.unattendedTiers).toEqual(['safe'])
    expect(s.readOnly).toBe(false)
    expect(s.approvals.channels).toEqual(['elicitation', 'cli'])
    expect(s.approvals.ttlSeconds).toBe(900)
    expect(s.approvals.dir).toBe('/home/ada/.local/state/safe-ddl/approvals')
    expect(s.projects).toEqual(['default'])
    expect(s.defaultProject).toBe('default')
  })

  it('reads the mcp key of ddl.config.json, relative paths from the file', async () => {
    const cwd = await withConfig({
      projects: { app: 'APP_URL', reporting: 'REPORTING_URL' },
      mcp: {
        projects: ['app', 'reporting'],
        defaultProject: 'app',
        unattendedTiers: ['safe', 'cautious'],
        approvals: { ttlSeconds: 60, dir: 'state/approvals', channels: ['cli'], approverUids: [1001], shared: true },
        timeouts: { lockTimeoutMs: 2000 },
        maxRows: 50,
        migrationsDir: 'db/migrations',
      },
    })
    const s = loadSettings({ cwd }, {})._unsafeUnwrap()
    expect(s.projects).toEqual(['app', 'reporting'])
    expect(s.defaultProject).toBe('app')
    expect(s.unattendedTiers).toEqual(['safe', 'cautious'])
    expect(s.approvals).toMatchObject({
      ttlSeconds: 60,
      dir: join(cwd, 'state/approvals'),
      channels: ['cli'],
      approverUids: [1001],
      shared: true,
    })
    expect(s.timeouts).toEqual({ lockTimeoutMs: 2000 })
    expect(s.maxRows).toBe(50)
    expect(s.migrationsDir).toBe(join(cwd, 'db/migrations'))
  })

  it('lets the environment and flags override, flags last', async () => {
    const cwd = await withConfig({ mcp: { approvals: { ttlSeconds: 60 } } })
    const env = { DDL_MCP_APPROVAL_TTL: '30', DDL_MCP_UNATTENDED_TIERS: 'safe,cautious', DDL_APPROVALS_DIR: '/srv/a' }
    const fromEnv = loadSettings({ cwd }, env)._unsafeUnwrap()
    expect(fromEnv.approvals.ttlSeconds).toBe(30)
    expect(fromEnv.unattendedTiers).toEqual(['safe', 'cautious'])
    expect(fromEnv.approvals.dir).toBe('/srv/a')
    const fromFlags = loadSettings({ cwd, ttlSeconds: 5, unattendedTiers: [] }, env)._unsafeUnwrap()
    expect(fromFlags.approvals.ttlSeconds).toBe(5)
    expect(fromFlags.unattendedTiers).toEqual([])
  })

  it('turns read-only on from any layer, and no layer turns it off', async () => {
    const cwd = await withConfig({ mcp: { readOnly: true } })
    expect(loadSettings({ cwd, readOnly: false }, { DDL_MCP_READ_ONLY: '0' })._unsafeUnwrap().readOnly).toBe(true)
    const plain = await withConfig()
    expect(loadSettings({ cwd: plain }, { DDL_MCP_READ_ONLY: '1' })._unsafeUnwrap().readOnly).toBe(true)
    expect(loadSettings({ cwd: plain, readOnly: true }, {})._unsafeUnwrap().readOnly).toBe(true)
  })

  it('lets flags narrow the configured projects but not widen them', async () => {
    const cwd = await withConfig({ projects: { a: 'A_URL', b: 'B_URL' }, mcp: { projects: ['a'] } })
    expect(loadSettings({ cwd }, {})._unsafeUnwrap().projects).toEqual(['a'])
    expect(loadSettings({ cwd, projects: ['a', 'b'] }, {}).isErr()).toBe(true)
    expect(loadSettings({ cwd, projects: ['b'] }, {})._unsafeUnwrapErr().message).toContain('not in "mcp.projects"')
    expect(loadSettings({ cwd, projects: ['c'] }, {})._unsafeUnwrapErr().message).toContain('may not use project "c"')
  })

  it('refuses unknown keys, bad tiers, bad channels and bad numbers', async () => {
    for (const mcp of [
      { readonly: true },
      { unattendedTiers: ['everything'] },
      { approvals: { channels: [] } },
      { approvals: { channels: ['email'] } },
      { approvals: { ttlSeconds: 0 } },
      { approvals: { ttl: 5 } },
      { timeouts: { lockTimeoutMs: -1 } },
      { maxRows: 1.5 },
    ]) {
      const cwd = await withConfig({ mcp })
      expect(loadSettings({ cwd }, {}).isErr(), JSON.stringify(mcp)).toBe(true)
    }
    const cwd = await withConfig()
    expect(loadSettings({ cwd }, { DDL_MCP_APPROVAL_TTL: 'soon' }).isErr()).toBe(true)
  })
})

describe('parseServerArgs', () => {
  it('reads every flag of ddl mcp', () => {
    const args = parseServerArgs([
      '--read-only',
      '--project',
      'a,b',
      '--project',
      'c',
      '--unattended',
      'safe',
      '--approvals',
      'elicitation',
      '--approval-ttl',
      '60',
      '--approvals-dir',
      '/x',
    ])._unsafeUnwrap()
    expect(args).toEqual({
      help: false,
      overrides: {
        readOnly: true,
        projects: ['a', 'b', 'c'],
        unattendedTiers: ['safe'],
        channels: ['elicitation'],
        ttlSeconds: 60,
        approvalsDir: '/x',
      },
    })
    expect(parseServerArgs(['--help'])._unsafeUnwrap()).toEqual({ help: true })
  })

  it('refuses unknown flags and bad values, and has no flag that loosens read-only', () => {
    for (const argv of [['--yolo'], ['--unattended', 'all'], ['--approval-ttl', '0'], ['--approvals', 'mail'], ['x']]) {
      expect(parseServerArgs(argv).isErr(), argv.join(' ')).toBe(true)
    }
    expect(parseServerArgs(['--no-read-only']).isErr()).toBe(true)
  })
})
