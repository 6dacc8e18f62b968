import { MigrationRunError } from './migration-error.js'

/** The run was asked to stop before `name` started: nothing of it was sent. Never throws. */
export function interruptedBefore(name: string): MigrationRunError {
  return new MigrationRunError(`Interrupted before migration ${name} started: nothing of it was run.`, {
    problem: 'interrupted',
    file: name,
  })
}

/**
 * The run was asked to stop while `name` ran: `error` is how the file ended (its statement cancelled,
 * 57014, and the file rolled back; or, outside a transaction, what ran stays). Never throws.
 */
export function interruptedDuring(name: string, error: MigrationRunError): MigrationRunError {
  return new MigrationRunError(
    `Interrupted while migration ${name} was running: its running statement was cancelled.\n${error.message}`,
    {
      problem: 'interrupted',
      file: error.file ?? name,
      issues: error.issues,
      line: error.line,
      sqlstate: error.sqlstate,
    },
    error.cause === undefined ? undefined : { cause: error.cause },
  )
}
