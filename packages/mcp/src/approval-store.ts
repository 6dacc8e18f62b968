import { randomBytes } from 'node:crypto'
import type { Stats } from 'node:fs'
import { chmod, link, lstat, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { isTier } from '@ddl/classifier'
import { err, ok, type Result, ResultAsync } from 'neverthrow'
import { z } from 'zod'
import {
  type ApprovalDenial,
  type ApprovalGrant,
  type ApprovalRequest,
  type ApprovalState,
  type ApprovalUse,
  isApprovalId,
} from './approval.js'
import { ApprovalError } from './approval-error.js'

/** The four folders of the store, one file per approval id in each. */
type Folder = 'requests' | 'grants' | 'denials' | 'used'

const tier = z.string().refine(isTier)
const finding = z.object({
  rule: z.string(),
  tier,
  severity: z.enum(['error', 'warning', 'info']),
  message: z.string(),
  hint: z.string(),
})
const target = z.object({
  host: z.string(),
  port: z.number(),
  database: z.string(),
  systemIdentifier: z.string().optional(),
})
const requestSchema = z.object({
  v: z.literal(1),
  id: z.string().refine(isApprovalId),
  project: z.string().min(1),
  sql: z.string().min(1),
  sqlSha256: z.string().regex(/^[0-9a-f]{64}$/),
  tier,
  statements: z.array(
    z.object({
      line: z.number(),
      display: z.string(),
      kind: z.string(),
      tier,
      findings: z.array(finding),
      file: z.string().optional(),
    }),
  ),
  rehearsal: z.array(z.string()).optional(),
  files: z.array(z.object({ name: z.string(), sql: z.string() })).optional(),
  server: z.string().min(1),
  target,
  rehearsalEffects: z
    .object({
      tables: z.array(
        z.object({
          table: z.string(),
          inserted: z.number(),
          updated: z.number(),
          deleted: z.number(),
          emptied: z.boolean(),
          everyRowUpdated: z.boolean(),
          dropped: z.boolean(),
          rewritten: z.boolean(),
          truncated: z.boolean(),
          estimatedRows: z.number(),
        }),
      ),
      largeObjectsUnlinked: z.number(),
      disabledTriggers: z.array(z.object({ table: z.string(), name: z.string(), state: z.string() })),
      disabledRules: z.array(z.object({ table: z.string(), name: z.string(), state: z.string() })),
      guards: z.array(z.object({ setting: z.string(), expected: z.string(), actual: z.string() })),
      sequences: z.array(z.object({ sequence: z.string(), from: z.string().nullable(), to: z.string().nullable() })),
    })
    .optional(),
  origin: z.string(),
  requestedBy: z.string(),
  createdAt: z.string().datetime(),
  expiresAt: z.string().datetime(),
})
const grantSchema = z.object({
  v: z.literal(1),
  id: z.string().refine(isApprovalId),
  project: z.string().min(1),
  sqlSha256: z.string().regex(/^[0-9a-f]{64}$/),
  tier,
  approvedBy: z.string().min(1),
  approvedAt: z.string().datetime(),
  expiresAt: z.string().datetime(),
  via: z.enum(['cli', 'elicitation']),
  server: z.string().min(1),
  target,
  signature: z.string().optional(),
})
const denialSchema = z.object({
  v: z.literal(1),
  id: z.string().refine(isApprovalId),
  deniedBy: z.string().min(1),
  deniedAt: z.string().datetime(),
})
const useSchema = z.object({
  v: z.literal(1),
  id: z.string().refine(isApprovalId),
  usedBy: z.string(),
  usedAt: z.string().datetime(),
})

/** Options of {@link ApprovalStore}. */
export interface ApprovalStoreOptions {
  /**
   * When not empty, grants count only when their file is owned by one of these OS user ids, is a
   * regular file (not a link) and is writable by its owner alone.
   */
  readonly approverUids?: readonly number[]
  /** Write files 0640 and new directories 0750 (a store shared with an approver's group). Default 0600/0700. */
  readonly shared?: boolean
}

/**
 * The approval store: a directory (mode 0700) of JSON files (mode 0600; 0750/0640 when `shared`), one per approval id in each
 * of `requests/` (written by the MCP server), `grants/` and `denials/` (written by `ddl approve`),
 * and `used/` (created exclusively by the server that ran the SQL, so an approval runs once even
 * when two servers race). Files are published whole (written aside, then hard-linked into place),
 * and a file that exists is never overwritten.
 *
 * The MCP server's tools never call {@link ApprovalStore.grant}: only `ddl approve` does. Every
 * method returns a `ResultAsync` failing with `ApprovalError` and never throws.
 *
 * @example
 * const store = new ApprovalStore('/home/me/.local/state/safe-ddl/approvals')
 * const state = await store.read('ap-7k2m9xq4ra') // ok({ request, grant, denial, use })
 */
export class ApprovalStore {
  /** The store's directory. */
  readonly dir: string
  readonly #approverUids: readonly number[]
  readonly #fileMode: number
  readonly #dirMode: number

  constructor(dir: string, options: ApprovalStoreOptions = {}) {
    this.dir = dir
    this.#approverUids = options.approverUids ?? []
    this.#fileMode = options.shared === true ? 0o640 : 0o600
    this.#dirMode = options.shared === true ? 0o750 : 0o700
  }

  /** Publishes a new request. Fails with `ApprovalError` (`store`) when it cannot be written. */
  saveRequest(request: ApprovalRequest): ResultAsync<ApprovalRequest, ApprovalError> {
    return this.#publish('requests', request.id, request).map(() => request)
  }

  /**
   * Publishes a person's grant. Called by `ddl approve` only. Fails with `ApprovalError` (`used`,
   * `denied` or `not-approved` when a grant already exists; `store` when it cannot be written).
   */
  grant(grant: ApprovalGrant): ResultAsync<ApprovalGrant, ApprovalError> {
    return this.#publish('grants', grant.id, grant).map(() => grant)
  }

  /** Publishes a denial. Fails with `ApprovalError` (`store`). */
  deny(denial: ApprovalDenial): ResultAsync<ApprovalDenial, ApprovalError> {
    return this.#publish('denials', denial.id, denial).map(() => denial)
  }

  /**
   * Marks an approval used, exclusively: of two servers racing, one succeeds and the other fails with
   * `ApprovalError` (`used`). Call it before running the SQL.
   */
  markUsed(use: ApprovalUse): ResultAsync<ApprovalUse, ApprovalError> {
    return this.#publish('used', use.id, use).map(() => use)
  }

  /**
   * Everything the store holds about an id. A grant that fails the approver check (see
   * {@link ApprovalStoreOptions.approverUids}) fails with `ApprovalError` (`untrusted`); an id of the
   * wrong form with `malformed`.
   */
  read(id: string): ResultAsync<ApprovalState, ApprovalError> {
    if (!isApprovalId(id)) {
      return failed(
        new ApprovalError(`"${id.slice(0, 40)}" is not an approval id (they look like ap-7k2m9xq4ra). Nothing ran.`, {
          problem: 'malformed',
          approvalId: undefined,
        }),
      )
    }
    return new ResultAsync(this.#readState(id))
  }

  /** Every request in the store with its state, newest first. Unreadable files are skipped. */
  list(): ResultAsync<ApprovalState[], ApprovalError> {
    return new ResultAsync(this.#list())
  }

  /**
   * Deletes every file of approvals whose request expired before `before` (and unreadable leftovers
   * of those ids), so the store does not grow without end. Files it may not delete (an approver's
   * grants in a shared store) are left. Resolves to how many requests were removed. Never fails.
   */
  prune(before: Date): ResultAsync<number, never> {
    return ResultAsync.fromSafePromise(this.#prune(before))
  }

  async #prune(before: Date): Promise<number> {
    const listed = await this.#list()
    if (listed.isErr()) return 0
    let removed = 0
    for (const state of listed.value) {
      const request = state.request
      if (request === undefined || !(Date.parse(request.expiresAt) < before.getTime())) continue
      // The request goes last: while it exists, a used or denied mark still speaks for the id.
      for (const folder of ['grants', 'denials', 'used', 'requests'] as const) {
        await unlink(join(this.dir, folder, `${request.id}.json`)).catch(() => undefined)
      }
      removed++
    }
    return removed
  }

  async #list(): Promise<Result<ApprovalState[], ApprovalError>> {
    let names: string[]
    try {
      names = await readdir(join(this.dir, 'requests'))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ok([])
      return err(this.#storeError('read', error))
    }
    const states: ApprovalState[] = []
    for (const name of names) {
      const id = name.endsWith('.json') ? name.slice(0, -5) : ''
      if (!isApprovalId(id)) continue
      const state = await this.#readState(id)
      if (state.isOk() && state.value.request !== undefined) states.push(state.value)
    }
    states.sort((a, b) => (b.request?.createdAt ?? '').localeCompare(a.request?.createdAt ?? ''))
    return ok(states)
  }

  async #readState(id: string): Promise<Result<ApprovalState, ApprovalError>> {
    try {
      const request = await this.#readJson('requests', id, requestSchema)
      const grant = await this.#readJson('grants', id, grantSchema, true)
      const denial = await this.#readJson('denials', id, denialSchema)
      const use = await this.#readJson('used', id, useSchema)
      return ok({
        request: request as ApprovalRequest | undefined,
        grant: grant as ApprovalGrant | undefined,
        denial,
        use,
      })
    } catch (error) {
      if (error instanceof ApprovalError) return err(error)
      return err(this.#storeError('read', error))
    }
  }

  async #readJson<T>(folder: Folder, id: string, schema: z.ZodType<T>, trusted = false): Promise<T | undefined> {
    const path = join(this.dir, folder, `${id}.json`)
    let stats: Stats
    try {
      stats = await lstat(path)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
    if (trusted && this.#approverUids.length > 0) {
      const problem = !stats.isFile()
        ? 'it is not a regular file'
        : !this.#approverUids.includes(stats.uid)
          ? `it is owned by uid ${stats.uid}, not by an approver (${this.#approverUids.join(', ')})`
          : (stats.mode & 0o022) !== 0
            ? 'others may write it'
            : undefined
      if (problem !== undefined) {
        throw new ApprovalError(
          `The grant of ${id} is not trusted: ${problem}. Nothing ran. Only an approver account may write grants.`,
          { problem: 'untrusted', approvalId: id },
        )
      }
    }
    const parsed = schema.safeParse(JSON.parse(await readFile(path, 'utf8')))
    if (!parsed.success || (parsed.data as { id?: unknown }).id !== id) {
      throw new ApprovalError(`The ${folder} file of ${id} in ${this.dir} is damaged. Nothing ran.`, {
        problem: 'store',
        approvalId: id,
      })
    }
    return parsed.data
  }

  #publish(folder: Folder, id: string, value: { readonly id: string }): ResultAsync<void, ApprovalError> {
    return new ResultAsync(this.#write(folder, id, value))
  }

  async #write(folder: Folder, id: string, value: { readonly id: string }): Promise<Result<void, ApprovalError>> {
    if (!isApprovalId(id) || value.id !== id) {
      return err(new ApprovalError(`"${id}" is not an approval id.`, { problem: 'malformed', approvalId: undefined }))
    }
    const directory = join(this.dir, folder)
    const final = join(directory, `${id}.json`)
    const temp = join(directory, `.${id}.${randomBytes(6).toString('hex')}.tmp`)
    try {
      await mkdir(this.dir, { recursive: true, mode: this.#dirMode })
      await mkdir(directory, { recursive: true, mode: this.#dirMode })
      const handle = await open(temp, 'wx', this.#fileMode)
      try {
        await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`, 'utf8')
        await handle.sync()
      } finally {
        await handle.close()
      }
      await chmod(temp, this.#fileMode)
      try {
        // link() fails with EEXIST when the file is there: publishing is exclusive and atomic.
        await link(temp, final)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return err(this.#exists(folder, id))
        throw error
      }
      return ok(undefined)
    } catch (error) {
      return err(this.#storeError('write', error))
    } finally {
      await unlink(temp).catch(() => undefined)
    }
  }

  #exists(folder: Folder, id: string): ApprovalError {
    switch (folder) {
      case 'used':
        return new ApprovalError(`Approval ${id} was already used: it lets its SQL run once. Nothing ran.`, {
          problem: 'used',
          approvalId: id,
        })
      case 'grants':
        return new ApprovalError(`Approval ${id} was already approved.`, { problem: 'used', approvalId: id })
      case 'denials':
        return new ApprovalError(`Approval ${id} was already denied.`, { problem: 'denied', approvalId: id })
      case 'requests':
        return new ApprovalError(`Approval request ${id} exists already.`, { problem: 'store', approvalId: id })
    }
  }

  #storeError(what: 'read' | 'write', error: unknown): ApprovalError {
    const code = (error as NodeJS.ErrnoException).code
    return new ApprovalError(
      `The approval store ${this.dir} could not be ${what === 'read' ? 'read' : 'written'}` +
        `${code !== undefined ? ` (${code})` : ''}: ${(error as Error).message}. Nothing ran.`,
      { problem: 'store', approvalId: undefined },
      { cause: error },
    )
  }
}

function failed<T>(error: ApprovalError): ResultAsync<T, ApprovalError> {
  return new ResultAsync(Promise.resolve(err(error)))
}
