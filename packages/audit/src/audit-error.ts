/** Options of {@link AuditError}: the original error, and its errno code when there is one. */
export interface AuditErrorOptions extends ErrorOptions {
  /** The system error code behind the failure (`EISDIR`, `ENOSPC`, ...), or a code of this package (`ELOCKED`, `EINVALID`, `ETAIL`). */
  readonly code?: string
}

/**
 * The audit log could not record or read: the sink is not writable, the lock was not obtained, an
 * entry was invalid, or the file is damaged. Its message says what to do next.
 *
 * When an append fails, nothing was recorded, and gated work must not run.
 *
 * @example
 * ```ts
 * const result = await log.append(entry)
 * if (result.isErr()) console.error(result.error.message) // "... Set DDL_AUDIT_LOG to a writable file ..."
 * ```
 */
export class AuditError extends Error {
  readonly kind = 'AuditError'
  /** The audit log file concerned. */
  readonly path: string
  /** See {@link AuditErrorOptions.code}; undefined when none applies. */
  readonly code: string | undefined

  constructor(message: string, path: string, options?: AuditErrorOptions) {
    super(message, options)
    this.name = 'AuditError'
    this.path = path
    this.code = options?.code
  }
}

/** What the log was doing when a system call failed, for the message. */
export type AuditAction = 'write' | 'read'

const MOVE_ON = 'Set DDL_AUDIT_LOG (or pass --log) to a file in a directory this user can write.'

/** Maps a thrown error (usually a Node `ErrnoException`) to an {@link AuditError} with a next step. */
export function toAuditError(cause: unknown, path: string, action: AuditAction): AuditError {
  if (cause instanceof AuditError) return cause
  const code = errnoCode(cause)
  const verb = action === 'write' ? 'write' : 'read'
  const options: AuditErrorOptions = code === undefined ? { cause } : { cause, code }
  switch (code) {
    case 'EISDIR':
      return new AuditError(`cannot ${verb} the audit log: ${path} is a directory. ${MOVE_ON}`, path, options)
    case 'ENOTDIR':
      return new AuditError(
        `cannot ${verb} the audit log: a parent of ${path} is a file, not a directory. ${MOVE_ON}`,
        path,
        options,
      )
    case 'EACCES':
    case 'EPERM':
      return new AuditError(
        `cannot ${verb} the audit log: permission denied on ${path} or its directory. ` +
          `Give this user access, or ${lower(MOVE_ON)}`,
        path,
        options,
      )
    case 'ENOSPC':
    case 'EDQUOT':
      return new AuditError(
        `cannot write the audit log: no space left for ${path}. ` +
          'Free disk space, or set DDL_AUDIT_LOG to a file on another disk. Nothing was recorded.',
        path,
        options,
      )
    case 'EFBIG':
      return new AuditError(
        `cannot write the audit log: ${path} has reached the largest size allowed for it. ` +
          'Move it aside (keep it: it is evidence) so a new log starts, or set DDL_AUDIT_LOG to another file. ' +
          'Nothing was recorded.',
        path,
        options,
      )
    case 'EROFS':
      return new AuditError(
        `cannot write the audit log: ${path} is on a read-only file system. ${MOVE_ON}`,
        path,
        options,
      )
    case 'ENOENT':
      return new AuditError(
        `cannot ${verb} the audit log: ${path} or its directory does not exist and could not be created. ${MOVE_ON}`,
        path,
        options,
      )
    case 'ENAMETOOLONG':
    case 'ELOOP':
      return new AuditError(`cannot ${verb} the audit log: ${path} is not a usable path. ${MOVE_ON}`, path, options)
    default: {
      const detail = cause instanceof Error ? cause.message : String(cause)
      return new AuditError(
        `cannot ${verb} the audit log ${path}: ${detail}. Check the file and its directory, or ${lower(MOVE_ON)}`,
        path,
        options,
      )
    }
  }
}

function errnoCode(cause: unknown): string | undefined {
  if (typeof cause !== 'object' || cause === null || !('code' in cause)) return undefined
  const { code } = cause as { code: unknown }
  return typeof code === 'string' ? code : undefined
}

function lower(sentence: string): string {
  return sentence.charAt(0).toLowerCase() + sentence.slice(1)
}
