/** What went wrong in a diff or drift. */
export type SchemaProblem =
  /** A source could not be read: no such file or directory, an unknown layout, a bad URL or project. */
  | 'source'
  /** Applying a migrations directory or schema file to the shadow database failed. */
  | 'materialise'
  /** Connecting to a database or reading its catalog failed. */
  | 'connection'
  /** The diff engine could not read a catalog or plan the change. */
  | 'engine'
  /** Writing the migration file failed. */
  | 'write'

/**
 * A diff or drift that could not be computed. Keeps the underlying error as `cause`; its message never
 * holds a connection string or password.
 */
export class SchemaError extends Error {
  readonly kind = 'SchemaError'
  readonly problem: SchemaProblem
  constructor(message: string, problem: SchemaProblem, options?: ErrorOptions) {
    super(message, options)
    this.name = 'SchemaError'
    this.problem = problem
  }
}
