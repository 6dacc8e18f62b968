import { effectivePolicy, policyHash, splitPolicy } from '@ddl/executor/internal'
import { describe, expect, it } from 'vitest'

describe('splitPolicy', () => {
  it('keeps raises and hazard settings, and calls every lowering part by name', () => {
    const { raise, lowering } = splitPolicy({
      rules: {
        truncate: 'destructive',
        'drop-table': 'safe',
        'prefer-text-field': 'off',
        'delete-with-where': 'cautious',
      },
      allow: [{ rule: 'drop-table', objects: ['scratch.*'], tier: 'cautious' }],
      hazardsRaiseTier: 'error',
    })
    expect(raise).toEqual({
      rules: { truncate: 'destructive', 'prefer-text-field': 'off', 'delete-with-where': 'cautious' },
      hazardsRaiseTier: 'error',
    })
    expect(lowering.map((l) => l.where)).toEqual(['rules.drop-table', 'allow[0]'])
    expect(lowering[1]?.description).toBe('drop-table on scratch.*: destructive → cautious')
  })

  it('treats a key it does not know as lowering (fail closed)', () => {
    const { raise, lowering } = splitPolicy({ futureKey: ['truncate'] } as never)
    expect(raise).toEqual({})
    expect(lowering).toEqual([{ where: 'futureKey', description: expect.stringContaining('treated as lowering') }])
  })

  it('treats allowEffects as lowering: it lets effects through the effect check', () => {
    const { raise, lowering } = splitPolicy({ allowEffects: [{ table: 'public.t', effects: ['delete'] }] } as never)
    expect(raise).toEqual({})
    expect(lowering).toEqual([{ where: 'allowEffects', description: expect.stringContaining('effect check') }])
  })
})

describe('effectivePolicy', () => {
  const lowering = { rules: { 'drop-table': 'safe' as const } }

  it('applies a raise-only policy as written without reading approvals', () => {
    const policy = { rules: { truncate: 'destructive' as const } }
    const e = effectivePolicy(policy, () => {
      throw new Error('approvals read for a raise-only policy')
    })
    expect(e).toMatchObject({ policy, approved: false, warning: undefined, lowering: [] })
  })

  it('drops the lowering parts, with a warning, until this exact policy is approved', () => {
    const hash = policyHash(lowering)
    const none = effectivePolicy(lowering, [])
    expect(none.policy).toEqual({})
    expect(none.warning).toContain('drop-table: destructive → safe')
    const approved = effectivePolicy(lowering, [{ hash, actor: 'ada', time: '2026-01-01T00:00:00.000Z' }])
    expect(approved).toMatchObject({ policy: lowering, approved: true, warning: undefined, hash })
    const edited = effectivePolicy({ rules: { 'drop-table': 'cautious' } }, [
      { hash, actor: 'ada', time: '2026-01-01T00:00:00.000Z' },
    ])
    expect(edited.approved).toBe(false)
    expect(edited.policy).toEqual({})
    expect(edited.warning).toContain('edited since')
  })

  it('hashes the canonical JSON, so key order does not matter and any edit does', () => {
    expect(policyHash({ rules: { a: 'safe', b: 'cautious' } } as never)).toBe(
      policyHash({ rules: { b: 'cautious', a: 'safe' } } as never),
    )
    expect(policyHash(lowering)).not.toBe(policyHash({ ...lowering, hazardsRaiseTier: 'error' }))
  })
})
