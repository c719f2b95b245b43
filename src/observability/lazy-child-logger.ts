// A request logger that creates its pino child only when something is logged. Fastify makes a child
// logger per request; with redaction and serializers that costs more than most hot-path requests.
import type { Bindings, ChildLoggerOptions, Logger } from 'pino'

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const

export function lazyChildLogger(parent: Logger, bindings: Bindings, options?: ChildLoggerOptions): Logger {
  let child: Logger | undefined
  const real = () => (child ??= parent.child(bindings, options))
  const lazy: Record<string, unknown> = {
    child: (b: Bindings, o?: ChildLoggerOptions) => real().child(b, o),
    isLevelEnabled: (level: string) => parent.isLevelEnabled(level),
    get level() {
      return child?.level ?? parent.level
    },
    set level(value: string) {
      real().level = value
    },
  }
  for (const level of LEVELS) {
    lazy[level] = (...args: unknown[]) => {
      // below the threshold nothing is written, so no child is needed
      if (!parent.isLevelEnabled(level)) return
      ;(real()[level] as (...a: unknown[]) => void)(...args)
    }
  }
  lazy.silent = () => {}
  return lazy as unknown as Logger
}
