export type {
  AuditEntry,
  AuditFlags,
  AuditLowering,
  AuditOutcome,
  AuditPolicy,
  AuditRecord,
  AuditTier,
} from './audit-entry.js'
export { AUDIT_OUTCOMES, AUDIT_RECORD_VERSION, AUDIT_TIERS } from './audit-entry.js'
export type { AuditErrorOptions } from './audit-error.js'
export { AuditError } from './audit-error.js'
export type { AppendOptions, AuditOptions, VerifyOptions } from './audit-log.js'
export { AuditLog } from './audit-log.js'
export type { HeadChecks, VerifyProblem, VerifyReport } from './chain-verifier.js'
export { canonicalJson, GENESIS_HASH, hashRecord } from './hash-chain.js'
export type { RedactOptions } from './redact-secrets.js'
export { REDACTED, redactSecrets } from './redact-secrets.js'
export { formatSeedLine } from './seed-format.js'
