/** Why an approval cannot be used. */
export type ApprovalProblem =
  /** No approval request has this id. */
  | 'unknown'
  /** The id is not of the form the server gives (`ap-` and ten letters or digits). */
  | 'malformed'
  /** A person has not approved it (yet). */
  | 'not-approved'
  /** A person denied it. */
  | 'denied'
  /** Its time ran out (the TTL counts from the request). */
  | 'expired'
  /** It already let its SQL run once. */
  | 'used'
  /** It was given for other SQL: the SHA-256 of this SQL differs. */
  | 'sql-mismatch'
  /** It was given for another project. */
  | 'project-mismatch'
  /** It was given for work of another tool (`apply_migrations` rather than `execute_sql`). */
  | 'tool-mismatch'
  /** The approval was asked for by another server instance (another MCP server, or this one before a restart). */
  | 'server-mismatch'
  /** The approval is for another database (host, port, database or system identifier). */
  | 'target-mismatch'
  /** The settings files changed since the server started. */
  | 'settings-changed'
  /** The SQL classifies higher than the tier the person approved. */
  | 'tier-mismatch'
  /** The grant was not written by a trusted approver (file owner, permissions), or arrived by a channel this server does not accept. */
  | 'untrusted'
  /** The approval store could not be read or written. */
  | 'store'

/**
 * An approval could not be used, or the approval store failed. Nothing was run.
 *
 * @example
 * // Approval ap-7k2m9xq4ra is for other SQL: its SHA-256 is 3f1c…, this SQL's is 9ab0…. Changed SQL needs a new approval.
 */
export class ApprovalError extends Error {
  readonly kind = 'ApprovalError'
  readonly problem: ApprovalProblem
  /** The approval id involved, when there is one. */
  readonly approvalId: string | undefined
  constructor(
    message: string,
    fields: { readonly problem: ApprovalProblem; readonly approvalId?: string | undefined },
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = 'ApprovalError'
    this.problem = fields.problem
    this.approvalId = fields.approvalId
  }
}
