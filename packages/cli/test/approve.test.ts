import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { AuditLog } from '@ddl/audit'
import { type ApprovalRequest, ApprovalStore, sqlSha256 } from '@ddl/mcp'
import { afterEach, describe, expect, it } from 'vitest'
import { registerApprove } from '../src/commands/approve.js'
import type { Io } from '../src/io.js'
import { type CommandContext, run } from '../src/program.js'

const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

interface Setup {
  readonly dir: string
  readonly store: ApprovalStore
  readonly env: NodeJS.ProcessEnv
  readonly auditPath: string
}

async function setup(): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'ddl-cli-approve-'))
  dirs.push(dir)
  const auditPath = join(dir, 'audit.jsonl')
  const env = {
    DDL_APPROVALS_DIR: join(dir, 'approvals'),
    DDL_AUDIT_LOG: auditPath,
    DDL_ACTOR: 'agent-pretending',
    HOME: dir,
  }
  return { dir, store: new ApprovalStore(env.DDL_APPROVALS_DIR), env, auditPath }
}

async function ddl(s: Setup, argv: readonly string[]) {
  let stdout = ''
  let stderr = ''
  const io: Io = {
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
    readStdin: async () => '',
    env: s.env,
    cwd: s.dir,
    color: false,
  }
  const ctx: CommandContext = { io, exitCode: 0 }
  const code = await run(argv, ctx, [registerApprove])
  return { code, stdout, stderr }
}

function request(id: string, sql: string, minutes = 15): ApprovalRequest {
  const now = Date.now()
  return {
    v: 1,
    id,
    project: 'default',
    sql,
    sqlSha256: sqlSha256(sql),
    tier: 'destructive',
    statements: [{ line: 1, display: sql, kind: 'DropStmt', tier: 'destructive', findings: [] }],
    rehearsal: ['line 1: drops public.users'],
    server: 'srv-test',
    target: { host: 'localhost', port: 5432, database: 'app', systemIdentifier: '7301' },
    origin: 'execute_sql',
    requestedBy: 'mcp:claude-code',
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + minutes * 60_000).toISOString(),
  }
}

const me = userInfo().username

describe('ddl approve', () => {
  it('lists the requests waiting for a person, and says when there are none', async () => {
    const s = await setup()
    expect((await ddl(s, ['approve'])).stdout).toContain('No approval requests are waiting')
    await s.store.saveRequest(request('ap-aaaaaaaaaa', 'DROP TABLE users'))
    await s.store.saveRequest(request('ap-bbbbbbbbbb', 'DROP TABLE gone', -1))
    const listed = await ddl(s, ['approve', '--list'])
    expect(listed.code).toBe(0)
    expect(listed.stdout).toContain('ap-aaaaaaaaaa  DESTRUCTIVE  default')
    expect(listed.stdout).toContain('DROP TABLE users')
    expect(listed.stdout).not.toContain('ap-bbbbbbbbbb')
  })

  it('shows the request, then approves it as the OS user (not DDL_ACTOR), audited before the grant', async () => {
    const s = await setup()
    await s.store.saveRequest(request('ap-aaaaaaaaaa', 'DROP TABLE users'))
    const result = await ddl(s, ['approve', 'ap-aaaaaaaaaa', '--yes'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain('Statements (classified here):')
    expect(result.stdout).toContain('drop-table')
    expect(result.stdout).toContain('drops public.users')
    expect(result.stdout).toContain(`Approved ap-aaaaaaaaaa as ${me}`)
    const state = (await s.store.read('ap-aaaaaaaaaa'))._unsafeUnwrap()
    expect(state.grant).toMatchObject({
      approvedBy: me,
      via: 'cli',
      tier: 'destructive',
      sqlSha256: sqlSha256('DROP TABLE users'),
    })
    const records = (await AuditLog.open({ path: s.auditPath }).read())._unsafeUnwrap()
    expect(records).toEqual([
      expect.objectContaining({
        actor: me,
        outcome: 'dry_run',
        statement: 'DROP TABLE users',
        source: expect.stringContaining('mcp approval ap-aaaaaaaaaa: approved by'),
      }),
    ])
  })

  it('does not approve without a terminal unless --yes is given', async () => {
    const s = await setup()
    await s.store.saveRequest(request('ap-aaaaaaaaaa', 'DROP TABLE users'))
    const result = await ddl(s, ['approve', 'ap-aaaaaaaaaa'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('not a terminal')
    expect((await s.store.read('ap-aaaaaaaaaa'))._unsafeUnwrap().grant).toBeUndefined()
  })

  it('refuses unknown, expired, approved, denied and tampered requests', async () => {
    const s = await setup()
    expect((await ddl(s, ['approve', 'ap-zzzzzzzzzz', '--yes'])).stderr).toContain('no approval request')
    expect((await ddl(s, ['approve', 'not-an-id', '--yes'])).stderr).toContain('not an approval id')
    await s.store.saveRequest(request('ap-bbbbbbbbbb', 'DROP TABLE gone', -1))
    expect((await ddl(s, ['approve', 'ap-bbbbbbbbbb', '--yes'])).stderr).toContain('expired')
    await s.store.saveRequest(request('ap-cccccccccc', 'DROP TABLE once'))
    expect((await ddl(s, ['approve', 'ap-cccccccccc', '--yes'])).code).toBe(0)
    expect((await ddl(s, ['approve', 'ap-cccccccccc', '--yes'])).stderr).toContain('already approved')
    await s.store.saveRequest({ ...request('ap-dddddddddd', 'DROP TABLE shown'), sql: 'DROP TABLE hidden' })
    const tampered = await ddl(s, ['approve', 'ap-dddddddddd', '--yes'])
    expect(tampered.code).toBe(1)
    expect(tampered.stderr).toContain('damaged')
  })

  it('shows terminal control characters in the SQL instead of obeying them', async () => {
    const s = await setup()
    await s.store.saveRequest(request('ap-aaaaaaaaaa', 'DROP TABLE users; -- \u001b[2K\u001b[1A\u202eSELECT 1'))
    const result = await ddl(s, ['approve', 'ap-aaaaaaaaaa', '--yes'])
    expect(result.stdout).not.toContain('\u001b')
    expect(result.stdout).not.toContain('\u202e')
    expect(result.stdout).toContain('\\u{1b}[2K')
    expect(result.stdout).toContain('\\u{202e}')
  })

  it('denies a request, so it never runs, and records who denied it', async () => {
    const s = await setup()
    await s.store.saveRequest(request('ap-aaaaaaaaaa', 'TRUNCATE users'))
    const result = await ddl(s, ['approve', '--deny', 'ap-aaaaaaaaaa'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`Denied ap-aaaaaaaaaa as ${me}`)
    expect((await s.store.read('ap-aaaaaaaaaa'))._unsafeUnwrap().denial?.deniedBy).toBe(me)
    expect((await ddl(s, ['approve', 'ap-aaaaaaaaaa', '--yes'])).stderr).toContain('denied')
    const log = await readFile(s.auditPath, 'utf8')
    expect(log).toContain('denied by')
  })
})
