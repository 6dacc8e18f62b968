// @ddl/cli as a library is small: its entry exports the program, for tools that embed `ddl`.
import { createProgram, EXIT, type ExitCode } from '@ddl/cli'

const refused: ExitCode = EXIT.failed
console.log(typeof createProgram, refused)
