import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type ApprovalGrant, type ApprovalRequest, ApprovalStore, sqlSha256 } from '../src/index.js'

const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

async function store(options: ConstructorParameters<typeof ApprovalStore>[1] = {}): Promise<ApprovalStore> {
  const dir = await mkdtemp(join(tmpdir(), 'ddl-approvals-'))
  dirs.push(dir)
  return new ApprovalStore(join(dir, 'approvals'), options)
}

const id = 'ap-7k2m9xq4ra'
const now = new Date()
const request: ApprovalRequest = {
  v: 1,
  id,
  project: 'default',
  sql: 'DROP TABLE t',
  sqlSha256: sqlSha256('DROP TABLE t'),
  tier: 'destructive',
  statements: [{ line: 1, display: 'DROP TABLE t', kind: 'DropStmt', tier: 'destructive', findings: [] }],
  rehearsal: ['line 1: drops public.t'],
  server: 'srv-test',
  target: { host: 'localhost', port: 5432, database: 'app', systemIdentifier: '7301' },
  origin: 'execute_sql',
  requestedBy: 'mcp:test',
  createdAt: now.toISOString(),
  expiresAt: new Date(now.getTime() + 60_000).toISOString(),
}
const grant: ApprovalGrant = {
  v: 1,
  id,
  project: 'default',
  sqlSha256: request.sqlSha256,
  tier: 'destructive',
  approvedBy: 'ada',
  approvedAt: now.toISOString(),
  expiresAt: request.expiresAt,
  via: 'cli',
  server: 'srv-test',
  target: { host: 'localhost', port: 5432, database: 'app', systemIdentifier: '7301' },
}

describe('ApprovalStore', () => {
  it('keeps requests and grants in private files and reads them back', async () => {
    const s = await store()
    await s.saveRequest(request)
    await s.grant(grant)
    const state = (await s.read(id))._unsafeUnwrap()
    expect(state.request).toEqual(request)
    expect(state.grant).toEqual(grant)
    expect((await stat(s.dir)).mode & 0o777).toBe(0o700)
    expect((await stat(join(s.dir, 'grants', `${id}.json`))).mode & 0o777).toBe(0o600)
    expect((await s.list())._unsafeUnwrap().map((x) => x.request?.id)).toEqual([id])
  })

  it('writes group-readable files in a shared store, still writable by the owner alone', async () => {
    const s = new ApprovalStore((await store()).dir, { shared: true })
    await s.grant(grant)
    expect((await stat(join(s.dir, 'grants', `${id}.json`))).mode & 0o777).toBe(0o640)
    const trusting = new ApprovalStore(s.dir, { approverUids: [process.getuid?.() ?? 0] })
    expect((await trusting.read(id))._unsafeUnwrap().grant).toEqual(grant)
  })

  it('prunes approvals that expired before a date, and nothing newer', async () => {
    const s = await store()
    const old = { ...request, id: 'ap-0000000000', expiresAt: new Date(now.getTime() - 86_400_000).toISOString() }
    await s.saveRequest(old)
    await s.markUsed({ v: 1, id: old.id, usedBy: 'mcp:test', usedAt: now.toISOString() })
    await s.saveRequest(request)
    expect((await s.prune(new Date(now.getTime() - 3_600_000)))._unsafeUnwrap()).toBe(1)
    expect((await s.read(old.id))._unsafeUnwrap()).toEqual({
      request: undefined,
      grant: undefined,
      denial: undefined,
      use: undefined,
    })
    expect((await s.read(id))._unsafeUnwrap().request).toEqual(request)
  })

  it('marks an approval used exactly once, even when two servers race', async () => {
    const s = await store()
    await s.saveRequest(request)
    const use = { v: 1 as const, id, usedBy: 'mcp:test', usedAt: now.toISOString() }
    const results = await Promise.all(Array.from({ length: 8 }, () => s.markUsed(use)))
    expect(results.filter((r) => r.isOk())).toHaveLength(1)
    expect(results.filter((r) => r.isErr()).map((r) => r._unsafeUnwrapErr().problem)).toEqual(Array(7).fill('used'))
  })

  it('never overwrites a grant', async () => {
    const s = await store()
    await s.grant(grant)
    const second = await s.grant({ ...grant, sqlSha256: sqlSha256('DROP TABLE other') })
    expect(second.isErr()).toBe(true)
    expect(JSON.parse(await readFile(join(s.dir, 'grants', `${id}.json`), 'utf8')).sqlSha256).toBe(grant.sqlSha256)
  })

  it('refuses ids that are not approval ids, so no path leaves the store', async () => {
    const s = await store()
    expect((await s.read('../../etc/passwd'))._unsafeUnwrapErr().problem).toBe('malformed')
    expect((await s.grant({ ...grant, id: '../x' }))._unsafeUnwrapErr().problem).toBe('malformed')
  })

  it('reports a damaged file instead of trusting it', async () => {
    const s = await store()
    await s.saveRequest(request)
    await s.grant(grant)
    await writeFile(join(s.dir, 'grants', `${id}.json`), '{"v":1,"id":"ap-7k2m9xq4ra"}')
    expect((await s.read(id))._unsafeUnwrapErr().problem).toBe('store')
  })

  it('with approver uids, trusts only grants owned by an approver and writable by no one else', async () => {
    const uid = process.getuid?.() ?? 0
    const foreign = await store({ approverUids: [uid + 1] })
    await foreign.saveRequest(request)
    await foreign.grant(grant)
    expect((await foreign.read(id))._unsafeUnwrapErr().problem).toBe('untrusted')

    const own = new ApprovalStore(foreign.dir, { approverUids: [uid] })
    expect((await own.read(id)).isOk()).toBe(true)
    await chmod(join(foreign.dir, 'grants', `${id}.json`), 0o666)
    expect((await own.read(id))._unsafeUnwrapErr().problem).toBe('untrusted')
  })
})
