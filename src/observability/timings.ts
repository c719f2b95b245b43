// Per-request stage durations (parse, plan, execute), sent as a Server-Timing header.
import { formatMs } from './format-ms.js'

export class Timings {
  // kept as the header's text from the start: the stages are only ever read back as that header
  private value = ''

  add(name: string, ms: number): void {
    const dur = `${name};dur=${formatMs(ms, 2)}`
    this.value = this.value ? `${this.value}, ${dur}` : dur
  }

  header(): string {
    return this.value
  }
}
