/** Why an undo-related call failed. */
export type UndoProblem =
  /** A statement's loss could not be kept (a view as DML target, a partitioned table dropped, no key). */
  | 'cannot-keep'
  /** What would be kept is larger than the configured cap. */
  | 'too-large'
  /** No kept run has that id (or it was purged). */
  | 'not-found'
  /** The run was already undone. */
  | 'already-undone'
  /** Later changes conflict with putting the kept state back. */
  | 'conflict'
  /** A bad argument (`--older-than`, an id). */
  | 'options'

/**
 * Keeping what a run removes, or putting it back, failed. When it fails during a run, the whole run
 * was rolled back: nothing was changed. When an undo fails, nothing was restored (never a partial
 * restore).
 *
 * @example
 * // Undo u_3f9a1c2b7d refused: later changes conflict with it.
 * //   - public.orders: Key (id)=(7) already exists.
 */
export class UndoError extends Error {
  readonly kind = 'UndoError'
  constructor(
    message: string,
    readonly problem: UndoProblem,
    /** What conflicts, one line each (for `conflict`). */
    readonly conflicts: readonly string[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = 'UndoError'
  }
}
