/** How much data, or how much security, is lost if a statement is a mistake. */
export type Tier = 'safe' | 'cautious' | 'destructive'

/** The tiers from least to most dangerous. */
export const TIERS: readonly Tier[] = ['safe', 'cautious', 'destructive']

/** What a caller must pass for a tier to run: nothing, `confirm`, or `iKnowWhatImDoing`. */
export type RequiredFlag = 'none' | 'confirm' | 'iKnowWhatImDoing'

const rank: Record<Tier, number> = { safe: 0, cautious: 1, destructive: 2 }

/** Orders tiers: negative when `a` is less dangerous than `b`. Never throws. */
export function compareTiers(a: Tier, b: Tier): number {
  return rank[a] - rank[b]
}

/** The more dangerous of two tiers. Never throws. */
export function maxTier(a: Tier, b: Tier): Tier {
  return rank[a] >= rank[b] ? a : b
}

/**
 * The flag a tier needs: `safe` needs none, `cautious` needs `confirm`, `destructive` needs
 * `iKnowWhatImDoing` (which also covers `cautious`). Never throws.
 *
 * @example
 * requiredFlag('cautious') // 'confirm'
 */
export function requiredFlag(tier: Tier): RequiredFlag {
  switch (tier) {
    case 'safe':
      return 'none'
    case 'cautious':
      return 'confirm'
    case 'destructive':
      return 'iKnowWhatImDoing'
  }
}

/** True when the given flags let a tier run. `iKnowWhatImDoing` covers `cautious` too. Never throws. */
export function flagsAllow(
  tier: Tier,
  flags: { readonly confirm?: boolean; readonly iKnowWhatImDoing?: boolean },
): boolean {
  switch (tier) {
    case 'safe':
      return true
    case 'cautious':
      return flags.confirm === true || flags.iKnowWhatImDoing === true
    case 'destructive':
      return flags.iKnowWhatImDoing === true
  }
}

/** True for one of the three tier names. Never throws. */
export function isTier(value: unknown): value is Tier {
  return value === 'safe' || value === 'cautious' || value === 'destructive'
}
