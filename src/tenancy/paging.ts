// FastAPI-style list windows (skip/limit) and the id check every Workspace lookup shares.

export interface Window {
  skip: number
  limit: number
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** ids are UUIDs; anything else cannot name a row, so lookups answer "not found" without asking the catalog */
export const isUuid = (id: string): boolean => UUID.test(id)
