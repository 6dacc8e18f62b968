import { AuditError } from '@ddl/audit'
import { describe, expect, it } from 'vitest'
import { toAuditError } from '../src/audit-error.js'

const errno = (code: string): Error => Object.assign(new Error(`${code}: failed`), { code })
const path = '/home/app/.safe-ddl/audit.jsonl'

describe('AuditError', () => {
  it('is an Error with a kind, the path, the code and the cause', () => {
    const cause = errno('EISDIR')
    const error = toAuditError(cause, path, 'write')
    expect(error).toBeInstanceOf(Error)
    expect(error).toBeInstanceOf(AuditError)
    expect(error).toMatchObject({ name: 'AuditError', kind: 'AuditError', path, code: 'EISDIR', cause })
  })

  it.each([
    [
      'EISDIR',
      `cannot write the audit log: ${path} is a directory. Set DDL_AUDIT_LOG (or pass --log) to a file in a directory this user can write.`,
    ],
    [
      'ENOTDIR',
      `cannot write the audit log: a parent of ${path} is a file, not a directory. Set DDL_AUDIT_LOG (or pass --log) to a file in a directory this user can write.`,
    ],
    [
      'EACCES',
      `cannot write the audit log: permission denied on ${path} or its directory. Give this user access, or set DDL_AUDIT_LOG (or pass --log) to a file in a directory this user can write.`,
    ],
    [
      'ENOSPC',
      `cannot write the audit log: no space left for ${path}. Free disk space, or set DDL_AUDIT_LOG to a file on another disk. Nothing was recorded.`,
    ],
    [
      'EROFS',
      `cannot write the audit log: ${path} is on a read-only file system. Set DDL_AUDIT_LOG (or pass --log) to a file in a directory this user can write.`,
    ],
  ])('says what to do next when a write fails with %s', (code, message) => {
    expect(toAuditError(errno(code), path, 'write').message).toBe(message)
  })

  it('keeps an AuditError as it is', () => {
    const error = new AuditError('x', path, { code: 'ELOCKED' })
    expect(toAuditError(error, path, 'read')).toBe(error)
  })
})
