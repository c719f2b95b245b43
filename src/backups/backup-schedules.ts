// Backup schedules as data: a cron expression (given, or made from the SDK's frequency form), keep_last, and
// which tick of a schedule is due. Pure: no catalog, no queue.
import cronParser from 'cron-parser'
import { AppError } from '../errors/app-error.js'
import type { ScheduleFields, ScheduleRecord } from './backup-store.js'

export interface ScheduleInput {
  client_name?: string
  cron?: string
  frequency?: string
  time_of_day?: string
  day_of_week?: number
  day_of_month?: number
  keep_last?: number | null
  label?: string | null
  enabled?: boolean
}

const FREQUENCIES = ['hourly', 'daily', 'weekly', 'monthly'] as const
const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$/
export const MAX_KEEP_LAST = 1000

/** the fields a schedule gets from a create (`current` undefined) or an update of `current` */
export function scheduleFields(input: ScheduleInput, current?: ScheduleRecord): ScheduleFields {
  const merged = { ...(current ?? {}), ...definedOnly(input) } as ScheduleInput & Partial<ScheduleRecord>
  // a new cron replaces a frequency; otherwise a schedule in the frequency form gets its cron from it anew
  if (input.cron !== undefined) Object.assign(merged, { frequency: null, time_of_day: null, day_of_week: null, day_of_month: null })
  else if (merged.frequency) merged.cron = undefined
  if (!merged.client_name) throw invalid('client_name is required: the client whose database the schedule backs up')
  const cron = merged.cron ?? cronOfFrequency(merged)
  assertCron(cron)
  const keep = merged.keep_last ?? null
  if (keep !== null && (!Number.isInteger(keep) || keep < 1 || keep > MAX_KEEP_LAST)) throw invalid(`keep_last must be a whole number from 1 to ${MAX_KEEP_LAST}, or null to keep every archive`)
  return {
    client_name: merged.client_name,
    cron,
    frequency: merged.frequency ?? null,
    time_of_day: merged.frequency ? (merged.time_of_day ?? '00:00') : null,
    day_of_week: merged.frequency === 'weekly' ? (merged.day_of_week ?? 0) : null,
    day_of_month: merged.frequency === 'monthly' ? (merged.day_of_month ?? 1) : null,
    keep_last: keep,
    label: merged.label ?? null,
    enabled: merged.enabled ?? true,
  }
}

function cronOfFrequency(s: ScheduleInput): string {
  if (s.frequency === undefined || s.frequency === null) throw invalid('give cron (e.g. "0 3 * * *") or frequency (hourly, daily, weekly, monthly)')
  if (!(FREQUENCIES as readonly string[]).includes(s.frequency)) throw invalid(`frequency ${JSON.stringify(s.frequency)} is not one of ${FREQUENCIES.join(', ')}`)
  const time = s.time_of_day ?? '00:00'
  const m = TIME_OF_DAY.exec(time)
  if (!m) throw invalid(`time_of_day ${JSON.stringify(time)} is not HH:MM (UTC, 00:00 to 23:59)`)
  const [hour, minute] = [Number(m[1]), Number(m[2])]
  switch (s.frequency) {
    case 'hourly': return `${minute} * * * *`
    case 'daily': return `${minute} ${hour} * * *`
    case 'weekly': {
      const day = s.day_of_week ?? 0
      if (!Number.isInteger(day) || day < 0 || day > 6) throw invalid('day_of_week must be 0 (Sunday) to 6 (Saturday)')
      return `${minute} ${hour} * * ${day}`
    }
    default: {
      const day = s.day_of_month ?? 1
      // 29–31 would skip the months without them
      if (!Number.isInteger(day) || day < 1 || day > 28) throw invalid('day_of_month must be 1 to 28, so that every month has it')
      return `${minute} ${hour} ${day} * *`
    }
  }
}

/** five fields (minute hour day month weekday), UTC; the tick job runs once a minute, so no seconds field */
export function assertCron(cron: string): void {
  if (typeof cron !== 'string' || cron.trim().split(/\s+/).length !== 5) throw invalid(`cron ${JSON.stringify(cron)} must have five fields: minute hour day-of-month month day-of-week (UTC)`)
  try {
    cronParser.parseExpression(cron, { tz: 'UTC' })
  } catch (err) {
    throw invalid(`cron ${JSON.stringify(cron)} is not valid: ${(err as Error).message}`)
  }
}

/**
 * The latest tick of `cron` at or before `now` when it is later than `since` (the last tick a backup was queued
 * for, or the schedule's creation); else null. Ticks missed while no worker ran collapse into this one.
 */
export function dueTick(cron: string, since: Date, now: Date): Date | null {
  // one millisecond past now, so a tick exactly at now counts
  const interval = cronParser.parseExpression(cron, { tz: 'UTC', currentDate: new Date(now.getTime() + 1) })
  const tick = interval.prev().toDate()
  return tick > since ? tick : null
}

/** the next tick after `now`, for display */
export function nextTick(cron: string, now: Date): string {
  return cronParser.parseExpression(cron, { tz: 'UTC', currentDate: now }).next().toDate().toISOString()
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

function invalid(message: string): AppError {
  return new AppError('invalid_request', message, { hint: 'a schedule is {client_name, cron | frequency (+ time_of_day, day_of_week, day_of_month), keep_last, label, enabled}' })
}
