import { redactUrl } from '@ddl/executor/internal'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { scrub, secretsOf } from '../src/redact.js'

describe('redactUrl', () => {
  it('hides the password of a Supabase URL and keeps the rest', () => {
    expect(redactUrl('postgres://postgres:s3cret@db.abc.supabase.co:5432/postgres?sslmode=require')).toBe(
      'postgres://postgres:***@db.abc.supabase.co:5432/postgres?sslmode=require',
    )
  })

  it('hides a password given as a parameter', () => {
    expect(redactUrl('postgresql://app@db/app?password=hunter2&sslmode=disable')).toBe(
      'postgresql://app@db/app?password=***&sslmode=disable',
    )
  })

  it('hides the password of a libpq key=value string', () => {
    expect(redactUrl("host=db user=app password='a b' dbname=x")).toBe('host=db user=app password=*** dbname=x')
  })

  it('never echoes text that is not a URL', () => {
    expect(redactUrl('pa55word-only')).toBe('[connection string hidden: not a valid URL]')
  })

  it('leaves a URL without a password as it is', () => {
    expect(redactUrl('postgres://app@localhost:5432/app')).toBe('postgres://app@localhost:5432/app')
  })

  it('never lets any password through, encoded or not', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 4, maxLength: 30 }), (password) => {
        const url = `postgres://user:${encodeURIComponent(password)}@db.example.com:5432/app`
        const shown = redactUrl(url)
        expect(shown).toBe('postgres://user:***@db.example.com:5432/app')
      }),
    )
  })
})

describe('scrub', () => {
  it('removes a URL, its password and its decoded password from any text', () => {
    const url = 'postgres://u:p%40ss-w0rd@h:1/d'
    const text = `failed: ${url} (p@ss-w0rd, p%40ss-w0rd)`
    expect(scrub(text, secretsOf(url))).toBe('failed: *** (***, ***)')
  })
})
