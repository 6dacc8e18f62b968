/**
 * `classify` was called before `init()` resolved (thrown: a bug in the caller), or while the parser
 * is reloaded after a crash (returned as an error value: try again).
 */
export class NotInitializedError extends Error {
  readonly kind = 'NotInitializedError'
  constructor(message = 'The classifier is not initialised: call `await init()` once before classify().') {
    super(message)
    this.name = 'NotInitializedError'
  }
}

/** The input cannot be classified at all (too large, or not text Postgres could receive). */
export class InputError extends Error {
  readonly kind = 'InputError'
  constructor(
    message: string,
    /** 0-based offset of the problem in the input, when there is one. */
    readonly offset?: number,
  ) {
    super(message)
    this.name = 'InputError'
  }
}

/** Every error `@ddl/classifier` returns. */
export type ClassifierError = NotInitializedError | InputError
