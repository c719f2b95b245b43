// Per-request stage durations (parse, plan, execute), sent as a Server-Timing header.

export class Timings {
  private readonly entries: Array<[string, number]> = []

  add(name: string, ms: number): void {
    this.entries.push([name, ms])
  }

  header(): string {
    return this.entries.map(([n, ms]) => `${n};dur=${ms.toFixed(2)}`).join(', ')
  }
}
