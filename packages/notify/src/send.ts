import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { Webhook } from 'standardwebhooks'
import type { ResolvedSink } from './notify-config.js'
import type { NotifyEvent } from './notify-event.js'
import { slackBody, webhookBody } from './payload.js'

/** What one attempt to deliver came to. `error` names no URL or secret. */
export type SendOutcome =
  | { readonly ok: true; readonly status: number }
  | { readonly ok: false; readonly error: string }

/** What is sent: the body and its headers (signed for webhooks). */
export interface SignedRequest {
  readonly body: string
  readonly headers: Readonly<Record<string, string>>
}

/**
 * The request for `event` to `sink`: a Slack body, or a Standard Webhooks body with `webhook-id`
 * (the event id, the same on every retry), `webhook-timestamp` (now, in seconds) and
 * `webhook-signature` (`v1,<base64 HMAC-SHA256>` over `id.timestamp.body`). Never throws.
 */
export function signedRequest(event: NotifyEvent, sink: ResolvedSink, now: Date): SignedRequest {
  if (sink.kind === 'slack') return { body: slackBody(event, sink), headers: { 'content-type': 'application/json' } }
  const body = webhookBody(event, sink)
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'webhook-id': event.id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
  }
  if (sink.secret !== undefined) headers['webhook-signature'] = new Webhook(sink.secret).sign(event.id, now, body)
  return { body, headers }
}

/**
 * POSTs `event` to `sink` once, giving up after `timeoutMs` (connect, send and response together).
 * A 2xx status is delivered; anything else is an error to retry. No connection is kept alive, so a
 * command exits as soon as it is done. Never throws.
 */
export function sendOnce(event: NotifyEvent, sink: ResolvedSink, timeoutMs: number, now: Date): Promise<SendOutcome> {
  const { body, headers } = signedRequest(event, sink, now)
  return new Promise<SendOutcome>((resolve) => {
    let settled = false
    const finish = (outcome: SendOutcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(outcome)
    }
    let url: URL
    try {
      url = new URL(sink.url)
    } catch {
      finish({ ok: false, error: 'the URL is not valid' })
      return
    }
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      agent: false,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'safe-ddl-notify/0.1' },
    })
    const timer = setTimeout(() => {
      finish({ ok: false, error: `timed out after ${timeoutMs} ms` })
      request.destroy()
    }, timeoutMs)
    request.on('response', (response) => {
      const status = response.statusCode ?? 0
      response.resume()
      response.on('end', () =>
        finish(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, error: `HTTP ${status}` }),
      )
      response.on('error', () => finish({ ok: false, error: `the response broke off (HTTP ${status})` }))
    })
    request.on('error', (error: NodeJS.ErrnoException) => finish({ ok: false, error: describeNetworkError(error) }))
    request.end(body)
  })
}

function describeNetworkError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found'
    case 'ECONNRESET':
      return 'connection reset'
    case 'ETIMEDOUT':
      return 'connection timed out'
    default:
      return error.code !== undefined ? `network error ${error.code}` : 'network error'
  }
}
