/**
 * Row 1: `classify` over the regression corpus, in one process, against the bare libpg-query floor on the
 * same texts (whole-file parse; rejected files split at the scanner's semicolons and parsed piece by piece).
 */
import { classify, init } from '../../packages/classifier/dist/index.js'
import { floorParse, loadLibpgQuery } from '../lib/floor-parse.mjs'
import { ratioOf, summarize } from '../lib/measure.mjs'

export async function classifierRow({ files, runs }) {
  const lib = await loadLibpgQuery()
  await init()
  const texts = files.map((f) => f.text)

  const passFloor = () => {
    let statements = 0
    for (const text of texts) statements += floorParse(lib, text).statements
    return statements
  }
  const passClassify = () => {
    let statements = 0
    for (const text of texts) {
      const plan = classify(text)
      if (plan.isErr()) throw new Error(`classify failed: ${plan.error.message}`)
      statements += plan.value.statements.length
    }
    return statements
  }
  const time = (fn) => {
    const started = performance.now()
    const statements = fn()
    return { ms: performance.now() - started, statements }
  }

  // Warm up both (JIT, WebAssembly tier-up), then interleave, alternating which goes first.
  time(passFloor)
  time(passClassify)
  const floor = []
  const classifier = []
  let floorStatements = 0
  let classifyStatements = 0
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? ['f', 'c'] : ['c', 'f']
    for (const which of order) {
      if (which === 'f') {
        const r = time(passFloor)
        floor.push(r.ms)
        floorStatements = r.statements
      } else {
        const r = time(passClassify)
        classifier.push(r.ms)
        classifyStatements = r.statements
      }
    }
  }
  const c = summarize(classifier)
  const f = summarize(floor)
  return {
    files: files.length,
    classify: { ...c, statements: classifyStatements, statementsPerSecond: classifyStatements / (c.median / 1000) },
    floor: { ...f, statements: floorStatements, statementsPerSecond: floorStatements / (f.median / 1000) },
    ratio: ratioOf(classifier, floor),
    target: 1.3,
  }
}
