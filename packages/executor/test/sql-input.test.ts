import { checkSqlText, decodeSql, lineColumn } from '@ddl/executor/internal'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

describe('checkSqlText', () => {
  it('accepts ordinary SQL', () => {
    expect(checkSqlText('SELECT 1')._unsafeUnwrap()).toBe('SELECT 1')
  })

  it('finds a NUL byte at its line and column', () => {
    expect(checkSqlText('a\nbc\u0000')._unsafeUnwrapErr()).toMatchObject({ problem: 'nul-byte', line: 2, column: 3 })
  })

  it('never accepts text with a NUL byte, wherever it is', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (before, after) => {
        expect(checkSqlText(`${before}\u0000${after}`).isErr()).toBe(true)
      }),
    )
  })

  it('accepts any well-formed text that is not blank and has no NUL', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', minLength: 1 }).filter((s) => s.trim() !== '' && !s.includes('\u0000')),
        (text) => {
          expect(checkSqlText(text).isOk()).toBe(true)
        },
      ),
    )
  })
})

describe('decodeSql', () => {
  it('decodes valid UTF-8 exactly', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const bytes = Buffer.from(text, 'utf8')
        if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return
        expect(decodeSql(bytes, 'f.sql')._unsafeUnwrap()).toBe(text)
      }),
    )
  })

  it('rejects overlong and surrogate encodings', () => {
    for (const bad of [
      [0xc0, 0x80],
      [0xed, 0xa0, 0x80],
      [0xf5, 0x80, 0x80, 0x80],
      [0x41, 0x80],
    ]) {
      expect(decodeSql(Uint8Array.from(bad), 'f.sql')._unsafeUnwrapErr().problem).toBe('invalid-utf8')
    }
  })
})

describe('lineColumn', () => {
  it('counts lines and columns from 1', () => {
    expect(lineColumn('ab\ncd', 0)).toEqual({ line: 1, column: 1 })
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 })
  })
})
