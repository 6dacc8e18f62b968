// A linter's use of @ddl/classifier, installed alone: no database, no other @ddl package.
import { type ClassifiedStatement, classify, init, type Plan, type Tier } from '@ddl/classifier'

await init()
const result = classify('ALTER TABLE users ADD COLUMN phone text; DROP TABLE old_orders')
if (result.isErr()) throw result.error
const plan: Plan = result.value
const tiers: Tier[] = plan.statements.map((statement: ClassifiedStatement) => statement.verdict.tier)
console.log(`${plan.tier} ${plan.requires} ${tiers.join(',')}`)
if (plan.tier !== 'destructive' || tiers.join(',') !== 'safe,destructive') process.exit(1)
