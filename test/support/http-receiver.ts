import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request a receiver got. */
export interface Received {
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/** What the receiver does with the n-th request (0-based): a status, or `hang` (never answers). */
export type Reply = number | 'hang'

/** A real HTTP server on loopback that keeps every request it gets. */
export interface Receiver {
  readonly url: string
  readonly received: Received[]
  close(): Promise<void>
}

/** Starts a receiver on 127.0.0.1 (a free port). `reply(n)` decides each answer; default 200. */
export async function startReceiver(reply: (n: number) => Reply = () => 200): Promise<Receiver> {
  const received: Received[] = []
  const hanging: ServerResponse[] = []
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const n = received.length
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') })
      const answer = reply(n)
      if (answer === 'hang') {
        hanging.push(response)
        return
      }
      response.writeHead(answer, { 'content-type': 'text/plain' }).end(answer === 200 ? 'ok' : 'no')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: async () => {
      for (const r of hanging) r.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** A port nothing listens on: bound, then closed. */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
