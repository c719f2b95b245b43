// Deep Object.freeze for parsed queries: once parse is done nothing may change a query, and the planner
// builds new objects instead of editing the ones it was given.

/**
 * Freezes `value` and everything reachable from it, and returns it. Already frozen objects are not walked
 * again (STAR and other shared constants, or a part frozen by an earlier parse step).
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value
  // a Buffer or typed array cannot be frozen while it has elements; no parser makes one, but a value may be one
  if (ArrayBuffer.isView(value)) return value
  Object.freeze(value)
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) deepFreeze(value[i])
  } else {
    for (const key in value) deepFreeze((value as Record<string, unknown>)[key])
  }
  return value
}
