export type { Cursor, Delivery, DeliveryState } from './delivery-state.js'
export { statePath } from './delivery-state.js'
export type { ReadRecord } from './derive-events.js'
export { deriveEvents } from './derive-events.js'
export type {
  ApprovalDetails,
  DeliverOptions,
  DeliveryReport,
  NotifierOptions,
  NotifyStatus,
} from './notifier.js'
export { backoffMs, MAX_ATTEMPTS, Notifier } from './notifier.js'
export type { ResolvedSink, SinkConfig, SinkKind, SinkSettings } from './notify-config.js'
export { DEFAULT_NOTIFY_TIMEOUT_MS, resolveSinks } from './notify-config.js'
export type { NotifyProblem } from './notify-error.js'
export { NotifyError } from './notify-error.js'
export type {
  NotifyApproval,
  NotifyEvent,
  NotifyEventType,
  NotifyFinding,
  NotifyStatement,
} from './notify-event.js'
export { NOTIFY_EVENT_TYPES } from './notify-event.js'
export { publicEvent, sinkWants, slackBody, webhookBody } from './payload.js'
export type { SendOutcome, SignedRequest } from './send.js'
export { sendOnce, signedRequest } from './send.js'
