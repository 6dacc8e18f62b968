import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AuditError, AuditLog } from '@ddl/audit'
import { describe, expect, it } from 'vitest'
import { entry, tempDirs } from './helpers.js'

const tempDir = tempDirs()

// Tests run as root, where chmod does not stop a write: these sinks are unwritable for root too.
describe('an unwritable sink', () => {
  it('gives an AuditError, and writes nothing, when the path is a directory', async () => {
    const dir = await tempDir()
    const error = (await AuditLog.open({ path: dir }).append(entry()))._unsafeUnwrapErr()
    expect(error).toBeInstanceOf(AuditError)
    expect(error).toMatchObject({ kind: 'AuditError', code: 'EISDIR', path: dir })
    expect(error.message).toContain('Set DDL_AUDIT_LOG')
    expect(await readdir(dir)).toEqual([])
  })

  it('gives an AuditError when a parent of the path is a regular file', async () => {
    const file = join(await tempDir(), 'not-a-dir')
    await writeFile(file, 'x')
    for (const path of [join(file, 'audit.jsonl'), join(file, 'deeper', 'audit.jsonl')]) {
      const error = (await AuditLog.open({ path }).append(entry()))._unsafeUnwrapErr()
      expect(error).toMatchObject({ kind: 'AuditError', code: 'ENOTDIR' })
      expect(error.message).toContain('is a file, not a directory')
    }
  })

  it('refuses a device as the log, so /dev/null cannot swallow records', async () => {
    for (const path of ['/dev/null', '/dev/full']) {
      const error = (await AuditLog.open({ path }).append(entry()))._unsafeUnwrapErr()
      expect(error).toMatchObject({ kind: 'AuditError', code: 'ENOTREG' })
      expect(existsSync(`${path}.lock`)).toBe(false)
    }
  })

  it('refuses a FIFO when reading and verifying, without hanging', async () => {
    const fifo = join(await tempDir(), 'fifo')
    execFileSync('mkfifo', [fifo])
    const log = AuditLog.open({ path: fifo })
    expect((await log.read())._unsafeUnwrapErr().code).toBe('ENOTREG')
    expect((await log.verify())._unsafeUnwrapErr().code).toBe('ENOTREG')
  })

  it('gives an AuditError that says the path is a directory when reading one', async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'sub'))
    const log = AuditLog.open({ path: join(dir, 'sub') })
    for (const result of [await log.verify(), await log.read()]) {
      const error = result._unsafeUnwrapErr()
      expect(error).toMatchObject({ kind: 'AuditError', code: 'EISDIR' })
      expect(error.message).toContain('is a directory')
    }
  })
})
