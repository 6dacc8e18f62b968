/** Why the notifier could not read or keep its delivery state. */
export type NotifyProblem = 'state' | 'locked' | 'audit'

/**
 * The delivery state beside the audit log could not be read or written, or another process held it.
 * Nothing about the work itself: notifications never fail a run.
 *
 * @example
 * if (result.isErr()) io.stderr(`ddl: notifications: ${result.error.message}\n`)
 */
export class NotifyError extends Error {
  readonly kind = 'NotifyError'
  readonly problem: NotifyProblem
  constructor(message: string, problem: NotifyProblem, options?: ErrorOptions) {
    super(message, options)
    this.name = 'NotifyError'
    this.problem = problem
  }
}
