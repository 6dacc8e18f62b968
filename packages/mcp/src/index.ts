export type {
  ApprovalDenial,
  ApprovalGrant,
  ApprovalRequest,
  ApprovalState,
  ApprovalStatus,
  ApprovalUse,
  GrantCheck,
  RequestedStatement,
} from './approval.js'
export { approvalStatus, bindingProblem, checkGrant, isApprovalId, newApprovalId, sqlSha256 } from './approval.js'
export type { ApprovalEvent } from './approval-audit.js'
export { approvedRunSource, recordApprovalEvent } from './approval-audit.js'
export type { ApprovalProblem } from './approval-error.js'
export { ApprovalError } from './approval-error.js'
export type { ApprovalStoreOptions } from './approval-store.js'
export { ApprovalStore } from './approval-store.js'
export { requestedStatements, statementLines, tierName } from './render.js'
export { runServer } from './run-server.js'
export type { CreateServerOptions, SafeDdlServer } from './server.js'
export { createMcpServer, SERVER_NAME, serveStdio } from './server.js'
export type { ServerArgs } from './server-args.js'
export { parseServerArgs, SERVER_HELP } from './server-args.js'
export type { ApprovalChannel, ApprovalSettings, McpSettings, SettingsOverrides } from './settings.js'
export {
  APPROVAL_CHANNELS,
  DEFAULT_APPROVAL_TTL_SECONDS,
  defaultApprovalsDir,
  describeSettings,
  loadSettings,
} from './settings.js'
