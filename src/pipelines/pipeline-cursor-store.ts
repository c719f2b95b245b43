// The last cursor value of each named pipeline (atrium.pipeline_cursors), per owner; written in the job step
// that wrote the batch, so a step that is redone after a crash finds the cursor it left.
import type { Executor } from '../sources/driver.js'

export class PipelineCursorStore {
  constructor(private readonly db: Executor) {}

  /** the value to continue after; null when the pipeline never ran with this cursor column */
  async get(owner: string, name: string, column: string, tx: Executor = this.db): Promise<unknown> {
    const res = await tx.query({
      sql: 'SELECT cursor_value FROM atrium.pipeline_cursors WHERE owner = $1 AND name = $2 AND cursor_column = $3',
      params: [owner, name, column],
    })
    return res.rows[0]?.cursor_value ?? null
  }

  async save(tx: Executor, owner: string, name: string, column: string, value: unknown): Promise<void> {
    await tx.query({
      sql: `INSERT INTO atrium.pipeline_cursors (owner, name, cursor_column, cursor_value) VALUES ($1, $2, $3, $4::jsonb)
            ON CONFLICT (owner, name) DO UPDATE SET cursor_column = EXCLUDED.cursor_column, cursor_value = EXCLUDED.cursor_value, updated_at = now()`,
      params: [owner, name, column, JSON.stringify(value)],
    })
  }
}
