import { execFile, execFileSync } from 'node:child_process'
import { link, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { AuditLog, GENESIS_HASH } from '@ddl/audit'
import { beforeAll, describe, expect, it } from 'vitest'
import { entry, tempDirs } from './helpers.js'

const run = promisify(execFile)
const tempDir = tempDirs()
const packageDir = resolve(import.meta.dirname, '..')
const worker = join(import.meta.dirname, 'fixtures', 'append-worker.mjs')

beforeAll(() => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-b', packageDir], { stdio: 'inherit' })
}, 120_000)

async function logWith(count: number): Promise<AuditLog> {
  const log = AuditLog.open({ path: join(await tempDir(), 'audit.jsonl') })
  for (let i = 0; i < count; i++) (await log.append(entry({ statement: `SELECT ${i}` })))._unsafeUnwrap()
  return log
}

/** Keeps the first `lines` lines of the log, as someone removing its last records would. */
async function cutTo(path: string, lines: number): Promise<void> {
  const kept = (await readFile(path, 'utf8')).split('\n').slice(0, lines)
  await writeFile(path, kept.length === 0 ? '' : `${kept.join('\n')}\n`)
}

describe('the head note beside the log', () => {
  it('names the last record after each append', async () => {
    const log = await logWith(3)
    const records = (await log.read())._unsafeUnwrap()
    const note = await readFile(`${log.path}.head`, 'utf8')
    expect(note).toBe(`ddl-audit-head v1 ${'3'.padStart(16, '0')} ${records[2]?.hash}\n`)
  })

  it('makes verify fail when the last records were removed', async () => {
    const log = await logWith(4)
    await cutTo(log.path, 2)
    const report = (await log.verify())._unsafeUnwrap()
    expect(report).toMatchObject({ ok: false, problem: 'cut', line: 3, records: 2 })
    if (!report.ok) expect(report.reason).toContain('head note names record 4')
    // Without the note (an older writer's log), the cut chain is whole again.
    expect((await log.verify({ headNote: false }))._unsafeUnwrap()).toMatchObject({ ok: true, records: 2 })
  })

  it('makes verify fail when the log was cut and other records appended in their place', async () => {
    const log = await logWith(3)
    const note = await readFile(`${log.path}.head`, 'utf8')
    await cutTo(log.path, 1)
    await rename(`${log.path}.head`, `${log.path}.head.kept`)
    ;(await log.append([entry({ statement: 'SELECT x' }), entry({ statement: 'SELECT y' })]))._unsafeUnwrap()
    await writeFile(`${log.path}.head`, note)
    expect((await log.verify())._unsafeUnwrap()).toMatchObject({ ok: false, problem: 'cut', line: 3 })
  })

  it('refuses to append below the noted head, and leaves the log as it was', async () => {
    const log = await logWith(3)
    await cutTo(log.path, 2)
    const before = await readFile(log.path, 'utf8')
    // A fresh log object: this one's memory of the file would not tell it someone else wrote it.
    const error = (await AuditLog.open({ path: log.path }).append(entry()))._unsafeUnwrapErr()
    expect(error.code).toBe('EHEAD')
    expect(error.message).toContain('records were removed from its end')
    expect(await readFile(log.path, 'utf8')).toBe(before)
  })

  it('notices a cut made between two appends of the same process', async () => {
    const log = await logWith(3)
    await cutTo(log.path, 2)
    expect((await log.append(entry()))._unsafeUnwrapErr().code).toBe('EHEAD')
  })

  it('starts a new chain when the log and its note are both moved aside', async () => {
    const log = await logWith(2)
    const dir = join(log.path, '..', 'old')
    await mkdir(dir)
    await rename(log.path, join(dir, 'audit.jsonl'))
    await rename(`${log.path}.head`, join(dir, 'audit.jsonl.head'))
    const [first] = (await log.append(entry()))._unsafeUnwrap()
    expect(first?.seq).toBe(1)
    expect((await readFile(join(dir, 'audit.jsonl'), 'utf8')).split('\n')).toHaveLength(3)
    expect((await log.verify())._unsafeUnwrap()).toMatchObject({ ok: true, records: 1 })
  })

  it('accepts a note behind the log, as an older writer leaves it', async () => {
    const log = await logWith(2)
    const note = await readFile(`${log.path}.head`, 'utf8')
    ;(await log.append(entry()))._unsafeUnwrap()
    await writeFile(`${log.path}.head`, note)
    expect((await AuditLog.open({ path: log.path }).append(entry())).isOk()).toBe(true)
    expect((await log.verify())._unsafeUnwrap()).toMatchObject({ ok: true, records: 4 })
  })

  it('reports a damaged note instead of trusting it', async () => {
    const log = await logWith(2)
    await writeFile(`${log.path}.head`, 'ddl-audit-head v1 garbage\n')
    const report = (await log.verify())._unsafeUnwrap()
    expect(report).toMatchObject({ ok: false, problem: 'cut' })
    if (!report.ok) expect(report.reason).toContain('is damaged')
  })
})

describe('verify with a head hash noted earlier', () => {
  it('passes while a record has it, however far the log grew since', async () => {
    const log = await logWith(2)
    const head = (await log.verify())._unsafeUnwrap()
    if (!head.ok) throw new Error('expected a whole chain')
    ;(await log.append(entry()))._unsafeUnwrap()
    expect((await log.verify({ head: head.headHash }))._unsafeUnwrap()).toMatchObject({ ok: true, records: 3 })
    expect((await log.verify({ head: GENESIS_HASH }))._unsafeUnwrap()).toMatchObject({ ok: true })
  })

  it('fails when no record has it any more', async () => {
    const log = await logWith(3)
    const head = (await log.verify())._unsafeUnwrap()
    if (!head.ok) throw new Error('expected a whole chain')
    await cutTo(log.path, 2)
    const report = (await log.verify({ head: head.headHash.toUpperCase(), headNote: false }))._unsafeUnwrap()
    expect(report).toMatchObject({ ok: false, problem: 'cut', line: 3, records: 2 })
    if (!report.ok) expect(report.reason).toContain(`no record has the head hash ${head.headHash}`)
  })
})

describe('a write cut by the file-size limit', () => {
  it('is cut back even after a module reset SIGXFSZ to its default (kill), and later appends go on', async () => {
    const path = join(await tempDir(), 'audit.jsonl')
    const { stdout } = await run('/bin/sh', [
      '-c',
      `ulimit -f 8 && exec "${process.execPath}" "${worker}" too-large-unhandled "${path}" 0 20000 0`,
    ])
    expect(JSON.parse(stdout)).toEqual({ small: true, large: 'EFBIG' })
    expect((await readFile(path, 'utf8')).split('\n')).toHaveLength(2)
    // A later run, without the limit, continues the chain.
    const log = AuditLog.open({ path })
    expect((await log.append(entry())).isOk()).toBe(true)
    expect((await log.verify())._unsafeUnwrap()).toMatchObject({ ok: true, records: 2 })
  })
})

describe('the lock beside the log', () => {
  it('is a hard link to one empty anchor file, gone after each append', async () => {
    const log = await logWith(3)
    expect((await stat(`${log.path}.lock-anchor`)).size).toBe(0)
    await expect(stat(`${log.path}.lock`)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('waits for a lock another writer holds as a link, and fails with ELOCKED', async () => {
    const log = await logWith(1)
    const waiting = AuditLog.open({ path: log.path, lockTimeoutMs: 300 })
    await link(`${log.path}.lock-anchor`, `${log.path}.lock`)
    const error = (await waiting.append(entry()))._unsafeUnwrapErr()
    expect(error.code).toBe('ELOCKED')
    expect((await log.read())._unsafeUnwrap()).toHaveLength(1)
  })
})

describe('records appended with flush: with-next', () => {
  const noted = async (path: string) => (await readFile(`${path}.head`, 'utf8')).split(' ')[2]

  it('are written at once, and noted only once an fsync made them durable', async () => {
    const log = await logWith(2)
    ;(await log.append(entry({ statement: 'SELECT later' }), { flush: 'with-next' }))._unsafeUnwrap()
    // Readers and verify see it at once; the note still names record 2 (it never names a record the
    // log could lose).
    expect((await log.read())._unsafeUnwrap().map((r) => r.statement)).toEqual(['SELECT 0', 'SELECT 1', 'SELECT later'])
    expect(await noted(log.path)).toBe('0000000000000002')
    expect((await log.verify())._unsafeUnwrap()).toMatchObject({ ok: true, records: 3 })
    ;(await log.flush())._unsafeUnwrap()
    expect(await noted(log.path)).toBe('0000000000000003')
  })

  it('are made durable by the next append that waits for its fsync', async () => {
    const log = await logWith(1)
    ;(await log.append(entry({ statement: 'SELECT outcome' }), { flush: 'with-next' }))._unsafeUnwrap()
    ;(await log.append(entry({ statement: 'SELECT intent' })))._unsafeUnwrap()
    expect(await noted(log.path)).toBe('0000000000000003')
    ;(await log.flush())._unsafeUnwrap() // nothing left to flush
    expect((await log.verify())._unsafeUnwrap()).toMatchObject({ ok: true, records: 3 })
  })

  it('are flushed and noted when the process exits without flush()', async () => {
    const path = join(await tempDir(), 'audit.jsonl')
    await run(process.execPath, [worker, 'with-next', path, '1', '3', '0'])
    expect(await noted(path)).toBe('0000000000000004')
    const log = AuditLog.open({ path })
    expect((await log.verify())._unsafeUnwrap()).toMatchObject({ ok: true, records: 4 })
  })

  it('do not note their head beside a new log begun at the path', async () => {
    const log = await logWith(3)
    ;(await log.append(entry({ statement: 'SELECT later' }), { flush: 'with-next' }))._unsafeUnwrap()
    await rename(log.path, `${log.path}.old`)
    await rename(`${log.path}.head`, `${log.path}.head.old`)
    const fresh = AuditLog.open({ path: log.path })
    ;(await fresh.append(entry({ statement: 'SELECT new' })))._unsafeUnwrap()
    ;(await log.flush())._unsafeUnwrap()
    expect(await noted(log.path)).toBe('0000000000000001')
    expect((await fresh.verify())._unsafeUnwrap()).toMatchObject({ ok: true, records: 1 })
  })
})
