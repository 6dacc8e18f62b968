import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  type ApprovalGrant,
  type ApprovalRequest,
  type ApprovalState,
  approvalStatus,
  checkGrant,
  isApprovalId,
  newApprovalId,
  signGrant,
  sqlSha256,
} from '../src/index.js'

const sql = 'DROP TABLE old_users'
const created = new Date('2026-01-29T10:00:00.000Z')
const id = 'ap-7k2m9xq4ra'

const request: ApprovalRequest = {
  v: 1,
  id,
  project: 'smoothed',
  sql,
  sqlSha256: sqlSha256(sql),
  tier: 'destructive',
  statements: [],
  rehearsal: undefined,
  server: 'srv-test',
  target: { host: 'localhost', port: 5432, database: 'app', systemIdentifier: '7301' },
  origin: 'execute_sql',
  requestedBy: 'mcp:test',
  createdAt: created.toISOString(),
  expiresAt: new Date(created.getTime() + 900_000).toISOString(),
}
const grant: ApprovalGrant = {
  v: 1,
  id,
  project: 'smoothed',
  sqlSha256: sqlSha256(sql),
  tier: 'destructive',
  approvedBy: 'ada',
  approvedAt: new Date(created.getTime() + 60_000).toISOString(),
  expiresAt: request.expiresAt,
  via: 'cli',
  server: 'srv-test',
  target: { host: 'localhost', port: 5432, database: 'app', systemIdentifier: '7301' },
}
const state: ApprovalState = { request, grant, denial: undefined, use: undefined }
const at = (minutes: number) => new Date(created.getTime() + minutes * 60_000)
const check = {
  id,
  project: 'smoothed',
  sqlSha256: sqlSha256(sql),
  tier: 'destructive' as const,
  now: at(2),
  ttlSeconds: 900,
  channels: ['cli', 'elicitation'] as const,
  server: 'srv-test',
  target: { host: 'localhost', port: 5432, database: 'app', systemIdentifier: '7301' },
}

describe('approval ids and hashes', () => {
  it('makes ids that are safe in file names and hard to guess', () => {
    const ids = new Set(Array.from({ length: 200 }, newApprovalId))
    expect(ids.size).toBe(200)
    for (const made of ids) expect(isApprovalId(made)).toBe(true)
    for (const bad of ['ap-../../etc', 'ap-7K2M9XQ4RA', 'ap-7k2m9xq4r', '', 'ap-7k2m9xq4ra/'])
      expect(isApprovalId(bad)).toBe(false)
  })

  it('binds to the exact bytes: whitespace and case change the hash', () => {
    expect(sqlSha256(sql)).toBe(sqlSha256('DROP TABLE old_users'))
    expect(sqlSha256(sql)).not.toBe(sqlSha256('DROP TABLE  old_users'))
    expect(sqlSha256(sql)).not.toBe(sqlSha256('drop table old_users'))
  })
})

describe('checkGrant', () => {
  it('accepts a granted, unused, unexpired approval of exactly this SQL and project', () => {
    expect(checkGrant(state, check)._unsafeUnwrap()).toEqual(grant)
  })

  it('refuses other SQL, another project, and a higher tier', () => {
    expect(checkGrant(state, { ...check, sqlSha256: sqlSha256('DROP TABLE users') })._unsafeUnwrapErr().problem).toBe(
      'sql-mismatch',
    )
    expect(checkGrant(state, { ...check, project: 'other' })._unsafeUnwrapErr().problem).toBe('project-mismatch')
    const cautious = { ...state, grant: { ...grant, tier: 'cautious' as const } }
    expect(checkGrant(cautious, check)._unsafeUnwrapErr().problem).toBe('tier-mismatch')
  })

  it('refuses a used, denied, waiting, unknown or expired approval', () => {
    const used = { ...state, use: { v: 1 as const, id, usedBy: 'mcp:test', usedAt: at(3).toISOString() } }
    expect(checkGrant(used, check)._unsafeUnwrapErr().problem).toBe('used')
    const denied = { ...state, denial: { v: 1 as const, id, deniedBy: 'ada', deniedAt: at(3).toISOString() } }
    expect(checkGrant(denied, check)._unsafeUnwrapErr().problem).toBe('denied')
    expect(checkGrant({ ...state, grant: undefined }, check)._unsafeUnwrapErr().problem).toBe('not-approved')
    expect(checkGrant({ ...state, request: undefined }, check)._unsafeUnwrapErr().problem).toBe('unknown')
    expect(checkGrant(state, { ...check, now: at(15) })._unsafeUnwrapErr().problem).toBe('expired')
  })

  it("applies the server's own TTL even when the files promise more", () => {
    const stretched = {
      ...state,
      request: { ...request, expiresAt: at(600).toISOString() },
      grant: { ...grant, expiresAt: at(600).toISOString() },
    }
    expect(checkGrant(stretched, { ...check, now: at(20) })._unsafeUnwrapErr().problem).toBe('expired')
    expect(checkGrant(stretched, { ...check, now: at(20), ttlSeconds: 3600 }).isOk()).toBe(true)
  })

  it('refuses a grant from a channel the server does not accept', () => {
    expect(checkGrant(state, { ...check, channels: ['elicitation'] })._unsafeUnwrapErr().problem).toBe('untrusted')
  })

  it('reports where an approval stands', () => {
    expect(approvalStatus(state, at(1))).toBe('approved')
    expect(approvalStatus({ ...state, grant: undefined }, at(1))).toBe('pending')
    expect(approvalStatus(state, at(16))).toBe('expired')
  })
})

describe('checkGrant binds to the server instance, the database and the approver key', () => {
  it('refuses a grant asked for by another server instance', () => {
    const r = checkGrant(state, { ...check, server: 'srv-other' })
    expect(r._unsafeUnwrapErr().problem).toBe('server-mismatch')
  })

  it('refuses a grant for another database, naming both', () => {
    const moved = checkGrant(state, { ...check, target: { ...check.target, database: 'other' } })
    expect(moved._unsafeUnwrapErr().problem).toBe('target-mismatch')
    expect(moved._unsafeUnwrapErr().message).toContain('localhost:5432/app')
    expect(moved._unsafeUnwrapErr().message).toContain('localhost:5432/other')
    const replaced = checkGrant(state, { ...check, target: { ...check.target, systemIdentifier: '9999' } })
    expect(replaced._unsafeUnwrapErr().problem).toBe('target-mismatch')
  })

  it('with an approver key, accepts only a grant signed by it', () => {
    const approver = generateKeyPairSync('ed25519')
    const agentKey = generateKeyPairSync('ed25519')
    const withKey = { ...check, publicKey: approver.publicKey }
    expect(checkGrant(state, withKey)._unsafeUnwrapErr().problem).toBe('untrusted')
    const forged = { ...state, grant: signGrant(grant, agentKey.privateKey) }
    expect(checkGrant(forged, withKey)._unsafeUnwrapErr().problem).toBe('untrusted')
    const signed = signGrant(grant, approver.privateKey)
    expect(checkGrant({ ...state, grant: signed }, withKey).isOk()).toBe(true)
    // A signed grant edited afterwards (a higher tier, another database) no longer verifies.
    const edited = { ...state, grant: { ...signed, target: { ...signed.target, database: 'other' } } }
    expect(checkGrant(edited, withKey)._unsafeUnwrapErr().problem).toBe('untrusted')
  })
})
