import { mkdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type AuditEntry, AuditError, AuditLog, GENESIS_HASH, hashRecord } from '@ddl/audit'
import { describe, expect, it } from 'vitest'
import { entry, tempDirs } from './helpers.js'

const tempDir = tempDirs()

async function lines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n').filter((line) => line !== '')
}

describe('AuditLog.append', () => {
  it('writes one JSON line per record, chained from 64 zeros with seq from 1', async () => {
    const log = AuditLog.open({ path: join(await tempDir(), 'audit.jsonl'), actor: 'alice' })
    const first = (await log.append(entry({ outcome: 'intent', runId: 'r1' })))._unsafeUnwrap()
    const second = (await log.append(entry({ runId: 'r1', rowsAffected: 0, durationMs: 12.5 })))._unsafeUnwrap()

    expect(first[0]).toMatchObject({ v: 1, seq: 1, prevHash: GENESIS_HASH, actor: 'alice', outcome: 'intent' })
    expect(second[0]).toMatchObject({ seq: 2, prevHash: first[0]?.hash, rowsAffected: 0, durationMs: 12.5 })
    for (const record of [...first, ...second]) expect(record.hash).toBe(hashRecord(record))
    const written = (await lines(log.path)).map((line) => JSON.parse(line) as unknown)
    expect(written).toEqual([first[0], second[0]])
    expect((await log.read())._unsafeUnwrap()).toEqual([first[0], second[0]])
  })

  it('stamps records with an ISO 8601 UTC time', async () => {
    const now = () => new Date('2026-01-29T10:15:32.104Z')
    const log = AuditLog.open({ path: join(await tempDir(), 'a.jsonl'), now })
    const [record] = (await log.append(entry()))._unsafeUnwrap()
    expect(record?.time).toBe('2026-01-29T10:15:32.104Z')
  })

  it('writes a batch under one lock as consecutive records', async () => {
    const log = AuditLog.open({ path: join(await tempDir(), 'a.jsonl') })
    await log.append(entry())
    const batch = (
      await log.append([entry({ statement: 'A' }), entry({ statement: 'B' }), entry({ statement: 'C' })])
    )._unsafeUnwrap()
    expect(batch.map((r) => [r.seq, r.statement])).toEqual([
      [2, 'A'],
      [3, 'B'],
      [4, 'C'],
    ])
    expect(batch[1]?.prevHash).toBe(batch[0]?.hash)
    expect((await log.verify())._unsafeUnwrap()).toEqual({ ok: true, records: 4, headHash: batch[2]?.hash })
  })

  it('records nothing for an empty batch and creates no file', async () => {
    const log = AuditLog.open({ path: join(await tempDir(), 'a.jsonl') })
    expect((await log.append([]))._unsafeUnwrap()).toEqual([])
    await expect(stat(log.path)).rejects.toThrow()
  })

  it('creates the directory 0700 and the file 0600', async () => {
    const dir = join(await tempDir(), 'nested', '.safe-ddl')
    const log = AuditLog.open({ path: join(dir, 'audit.jsonl') })
    ;(await log.append(entry()))._unsafeUnwrap()
    expect((await stat(dir)).mode & 0o777).toBe(0o700)
    expect((await stat(log.path)).mode & 0o777).toBe(0o600)
  })

  it('takes its path from DDL_AUDIT_LOG, else ~/.safe-ddl/audit.jsonl under HOME', async () => {
    const home = await tempDir()
    expect(AuditLog.open({ env: { HOME: home } }).path).toBe(join(home, '.safe-ddl', 'audit.jsonl'))
    expect(AuditLog.open({ env: { HOME: home, DDL_AUDIT_LOG: '/var/log/ddl.jsonl' } }).path).toBe('/var/log/ddl.jsonl')
    expect(AuditLog.open({ env: { HOME: home, DDL_AUDIT_LOG: '~/x.jsonl' } }).path).toBe(join(home, 'x.jsonl'))
    expect(AuditLog.open({ env: { DDL_AUDIT_LOG: 'rel.jsonl' }, cwd: home }).path).toBe(join(home, 'rel.jsonl'))
    expect(AuditLog.open({ path: '/p.jsonl', env: { DDL_AUDIT_LOG: '/q.jsonl' } }).path).toBe('/p.jsonl')
  })

  it('records DDL_ACTOR as the actor, and an entry may name its own', async () => {
    const log = AuditLog.open({ path: join(await tempDir(), 'a.jsonl'), env: { DDL_ACTOR: 'claude-agent' } })
    expect(log.actor).toBe('claude-agent')
    const records = (await log.append([entry(), entry({ actor: 'bob' })]))._unsafeUnwrap()
    expect(records.map((r) => r.actor)).toEqual(['claude-agent', 'bob'])
    expect(AuditLog.open({ env: {} }).actor.length).toBeGreaterThan(0)
  })

  it('redacts the statement and the error before writing', async () => {
    const log = AuditLog.open({ path: join(await tempDir(), 'a.jsonl') })
    const records = (
      await log.append(
        entry({
          statement: "CREATE ROLE app LOGIN PASSWORD 'hunter2-secret'",
          outcome: 'failed',
          error: 'could not connect to postgres://app:hunter2-secret@db/app',
        }),
      )
    )._unsafeUnwrap()
    expect(records[0]?.statement).toBe("CREATE ROLE app LOGIN PASSWORD '***'")
    expect(records[0]?.error).toBe('could not connect to postgres://app:***@db/app')
    expect(await readFile(log.path, 'utf8')).not.toContain('hunter2')
  })

  it('replaces every string literal when redactLiterals is set', async () => {
    const log = AuditLog.open({ path: join(await tempDir(), 'a.jsonl'), redactLiterals: true })
    const [record] = (
      await log.append(entry({ statement: "UPDATE users SET email = 'a@b.c' WHERE id = 1" }))
    )._unsafeUnwrap()
    expect(record?.statement).toBe("UPDATE users SET email = '***' WHERE id = 1")
  })

  it('refuses an invalid entry with an AuditError and writes nothing', async () => {
    const log = AuditLog.open({ path: join(await tempDir(), 'a.jsonl') })
    const bad = { ...entry(), tier: 'harmless' } as unknown as AuditEntry
    const error = (await log.append([entry(), bad]))._unsafeUnwrapErr()
    expect(error).toBeInstanceOf(AuditError)
    expect(error).toMatchObject({ kind: 'AuditError', code: 'EINVALID', path: log.path })
    expect(error.message).toBe(
      'cannot record entry 2: "tier" must be one of safe, cautious, destructive. Nothing was recorded; fix the caller.',
    )
    await expect(stat(log.path)).rejects.toThrow()
  })

  it('refuses a negative rowsAffected and an unknown flag', async () => {
    const log = AuditLog.open({ path: join(await tempDir(), 'a.jsonl') })
    expect((await log.append(entry({ rowsAffected: -1 })))._unsafeUnwrapErr().message).toContain('rowsAffected')
    const flags = { ...entry().flags, yolo: true } as unknown as ReturnType<typeof entry>['flags']
    expect((await log.append(entry({ flags })))._unsafeUnwrapErr().message).toContain('unknown flag "yolo"')
  })

  it('keeps one chain when many appends from one process overlap', async () => {
    const path = join(await tempDir(), 'a.jsonl')
    const a = AuditLog.open({ path })
    const b = AuditLog.open({ path })
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).append(entry({ statement: `SELECT ${i}` }))),
    )
    for (const result of results) expect(result.isOk()).toBe(true)
    expect((await a.verify())._unsafeUnwrap()).toMatchObject({ ok: true, records: 40 })
  })

  it('chains after a last line longer than one read chunk', async () => {
    const log = AuditLog.open({ path: join(await tempDir(), 'a.jsonl') })
    const long = `COMMENT ON TABLE t IS '${'x'.repeat(300_000)}'`
    await log.append([entry(), entry({ statement: long })])
    const [next] = (await log.append(entry()))._unsafeUnwrap()
    expect(next?.seq).toBe(3)
    expect((await log.verify())._unsafeUnwrap()).toMatchObject({ ok: true, records: 3 })
  })

  it('refuses to append after a partial last line, leaving the file as it was', async () => {
    const log = AuditLog.open({ path: join(await tempDir(), 'a.jsonl') })
    await log.append(entry())
    const damaged = `${await readFile(log.path, 'utf8')}{"v":1,"seq":2,"ti`
    await writeFile(log.path, damaged)
    const error = (await log.append(entry()))._unsafeUnwrapErr()
    expect(error.code).toBe('ETAIL')
    expect(error.message).toContain('ddl audit verify')
    expect(await readFile(log.path, 'utf8')).toBe(damaged)
  })

  it('shares the lock between two spellings of one directory', async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'real'))
    await symlink(join(dir, 'real'), join(dir, 'link'))
    const a = AuditLog.open({ path: join(dir, 'real', 'a.jsonl') })
    const b = AuditLog.open({ path: join(dir, 'link', 'a.jsonl') })
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).append(entry())))
    expect((await a.verify())._unsafeUnwrap()).toMatchObject({ ok: true, records: 20 })
  })

  it('waits for a held lock and fails with ELOCKED after lockTimeoutMs', async () => {
    const log = AuditLog.open({ path: join(await tempDir(), 'a.jsonl'), lockTimeoutMs: 300 })
    await mkdir(`${log.path}.lock`)
    const started = Date.now()
    const error = (await log.append(entry()))._unsafeUnwrapErr()
    expect(Date.now() - started).toBeGreaterThanOrEqual(300)
    expect(error.code).toBe('ELOCKED')
    expect(error.message).toContain(`${log.path}.lock`)
    expect((await readFile(log.path, 'utf8')).length).toBe(0)
  })

  it('takes over a lock left stale by a dead process', async () => {
    const log = AuditLog.open({ path: join(await tempDir(), 'a.jsonl'), lockTimeoutMs: 2000 })
    await mkdir(`${log.path}.lock`)
    const old = new Date(Date.now() - 60_000)
    await utimes(`${log.path}.lock`, old, old)
    expect((await log.append(entry())).isOk()).toBe(true)
  })

  it('can skip fsync for throwaway logs', async () => {
    const log = AuditLog.open({ path: join(await tempDir(), 'a.jsonl'), durable: false })
    expect((await log.append(entry())).isOk()).toBe(true)
  })
})

describe('AuditLog.read', () => {
  it('reads a missing file as an empty log', async () => {
    const log = AuditLog.open({ path: join(await tempDir(), 'none.jsonl') })
    expect((await log.read())._unsafeUnwrap()).toEqual([])
  })

  it('names the first line that is not a record', async () => {
    const log = AuditLog.open({ path: join(await tempDir(), 'a.jsonl') })
    await log.append([entry(), entry()])
    await writeFile(log.path, `${await readFile(log.path, 'utf8')}not json\n`)
    const error = (await log.read())._unsafeUnwrapErr()
    expect(error.code).toBe('EMALFORMED')
    expect(error.message).toMatch(/^line 3 of the audit log .* is not an audit record: it is not valid JSON\./)
  })
})
