export { AGENT_MARKERS, agentMarkers, trustsAgentFlags } from './agent-markers.js'
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
export {
  approvalStatus,
  bindingProblem,
  checkGrant,
  grantPayload,
  grantSignatureValid,
  isApprovalId,
  migrationBundle,
  newApprovalId,
  signGrant,
  sqlSha256,
  targetProblem,
} from './approval.js'
export type { ApprovalEvent } from './approval-audit.js'
export { approvedRunSource, recordApprovalEvent } from './approval-audit.js'
export type { ApprovalProblem } from './approval-error.js'
export { ApprovalError } from './approval-error.js'
export { flagsFor } from './approval-flow.js'
export type { ApprovalStoreOptions } from './approval-store.js'
export { ApprovalStore } from './approval-store.js'
export type { DatabaseTarget } from './projects.js'
export { databaseTarget, describeTarget, targetOfUrl } from './projects.js'
export { escapeControls, requestedStatements, statementLines, tierName, untrustedData } from './render.js'
export { runServer } from './run-server.js'
export type { CreateServerOptions, SafeDdlServer } from './server.js'
export { createMcpServer, SERVER_NAME, serveStdio } from './server.js'
export type { ServerArgs } from './server-args.js'
export { parseServerArgs, SERVER_HELP } from './server-args.js'
export type {
  ApprovalChannel,
  ApprovalSettings,
  McpSettings,
  SettingName,
  SettingsOverrides,
  StartSnapshot,
  WatchedFile,
} from './settings.js'
export {
  APPROVAL_CHANNELS,
  changedSettingsFiles,
  DEFAULT_APPROVAL_TTL_SECONDS,
  defaultApprovalsDir,
  describeSettings,
  loadSettings,
  SINGLE_ACCOUNT_WARNING,
  singleAccount,
  singleAccountWarning,
} from './settings.js'
