// Per-request stage durations (parse, plan, execute), sent as a Server-Timing header.

export class Timings {
  // kept as the header's text from the start: the stages are only ever read back as that header
  private value = ''

  add(name: string, ms: number): void {
    // two decimals without toFixed (which costs more than the rest of this class)
    const dur = `${name};dur=${Math.round(ms * 100) / 100}`
    this.value = this.value ? `${this.value}, ${dur}` : dur
  }

  header(): string {
    return this.value
  }
}
