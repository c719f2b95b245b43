// Runs async work one after another: the batched catalog writers (request log, admission events) flush through
// it, so a flush asked for while one is writing runs after it instead of beside it.
export class SerialRuns {
  private last: Promise<void> | undefined

  /** true while a run is going or waiting */
  get busy(): boolean {
    return this.last !== undefined
  }

  /** queues `work` behind whatever runs now; a run already going may have taken its snapshot before the caller's */
  run(work: () => Promise<void>): Promise<void> {
    const next: Promise<void> = (this.last ?? Promise.resolve())
      .then(work)
      .finally(() => { if (this.last === next) this.last = undefined })
    this.last = next
    return next
  }
}
