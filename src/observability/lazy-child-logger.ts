// A request logger that creates its pino child only when something is logged. Fastify makes a child
// logger per request; with redaction and serializers that costs more than most hot-path requests.
// A class, so making one per request is one small object; its methods live on the prototype.
import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino'

class LazyChildLogger {
  private made: Logger | undefined

  constructor(private readonly parent: Logger, private readonly bindings: Bindings, private readonly options: ChildLoggerOptions | undefined) {}

  private real(): Logger {
    return (this.made ??= this.parent.child(this.bindings, this.options))
  }

  /** below the threshold nothing is written, so no child is needed */
  private write(level: Level, args: unknown[]): void {
    if (!this.parent.isLevelEnabled(level)) return
    ;(this.real()[level] as (...a: unknown[]) => void)(...args)
  }

  get level(): string {
    return this.made?.level ?? this.parent.level
  }

  set level(value: string) {
    this.real().level = value
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.real().child(bindings, options)
  }

  isLevelEnabled(level: string): boolean {
    return this.parent.isLevelEnabled(level)
  }

  fatal(...args: unknown[]): void { this.write('fatal', args) }
  error(...args: unknown[]): void { this.write('error', args) }
  warn(...args: unknown[]): void { this.write('warn', args) }
  info(...args: unknown[]): void { this.write('info', args) }
  debug(...args: unknown[]): void { this.write('debug', args) }
  trace(...args: unknown[]): void { this.write('trace', args) }
  silent(): void {}
}

export function lazyChildLogger(parent: Logger, bindings: Bindings, options?: ChildLoggerOptions): Logger {
  return new LazyChildLogger(parent, bindings, options) as unknown as Logger
}
