// The PostgREST Prefer header (return, count, resolution, missing, handling) → request options. Framework-free:
// it reads the header's text; answering Preference-Applied is the surface's job.
import { AppError } from '../../errors/app-error.js'
import type { CountMode } from '../ast.js'

export interface Preferences {
  return?: 'minimal' | 'representation' | 'headers-only'
  count?: CountMode
  resolution?: 'merge-duplicates' | 'ignore-duplicates'
  missing?: 'default' | 'null'
  /** the preferences understood, for Preference-Applied */
  applied: string[]
}

const ALLOWED: Record<string, readonly string[]> = {
  return: ['minimal', 'representation', 'headers-only'],
  count: ['exact', 'planned', 'estimated'],
  resolution: ['merge-duplicates', 'ignore-duplicates'],
  missing: ['default', 'null'],
  handling: ['lenient', 'strict'],
}

/** preferences PostgREST knows that Atrium accepts and ignores, even with handling=strict */
const IGNORED = new Set(['tx', 'max-affected', 'timezone', 'params'])

/**
 *   parsePrefer('return=representation, count=exact') → { return: 'representation', count: 'exact',
 *     applied: ['return=representation', 'count=exact'] }
 */
export function parsePrefer(raw: string | string[] | undefined): Preferences {
  // most reads send no Prefer: this runs on every /rest/v1 request
  if (raw === undefined) return { applied: [] }
  const text = Array.isArray(raw) ? raw.join(',') : raw ?? ''
  const prefs: Preferences = { applied: [] }
  const unknown: string[] = []
  let strict = false
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [key, value] = part.split('=').map((s) => s.trim())
    if (key === 'handling' && value === 'strict') strict = true
    if (ALLOWED[key]?.includes(value)) {
      if (key !== 'handling') (prefs as unknown as Record<string, string>)[key] = value
      prefs.applied.push(`${key}=${value}`)
    } else if (!IGNORED.has(key)) {
      unknown.push(part)
    }
  }
  // with handling=strict PostgREST refuses preferences it does not understand; lenient ignores them
  if (strict && unknown.length) throw new AppError('invalid_preference', `unknown or invalid preference: ${unknown.join(', ')}`)
  return prefs
}
