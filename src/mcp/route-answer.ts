// Reads what one of Atrium's own routes answered to a tool call: the JSON body of a success, or the route's refusal
// as a RouteRefusal whose text is the route's own code and message (each family has its error shape).

/** a route's answer, as the MCP layer receives it (http/inject-as-caller.ts produces it) */
export interface RouteAnswer {
  status: number
  text: string
  isJson: boolean
}

/** a route refused the call: the tool answers isError with this text, never a protocol error */
export class RouteRefusal extends Error {
  constructor(readonly status: number, readonly code: string | undefined, message: string) {
    super(message)
  }
}

/** the body of a 2xx answer; a RouteRefusal for anything else */
export function bodyOf(res: RouteAnswer): unknown {
  const body = parse(res)
  if (res.status >= 200 && res.status < 300) return body
  const { code, message, hint } = errorOf(body, res.text)
  throw new RouteRefusal(res.status, code, `${res.status}${code ? ` ${code}` : ''}: ${message}${hint ? ` (hint: ${hint})` : ''}`)
}

function parse(res: RouteAnswer): unknown {
  if (!res.isJson) return res.text
  try {
    return JSON.parse(res.text)
  } catch {
    return res.text
  }
}

/** the code, message and hint of every family's error shape: Athena, FastAPI ({detail}) and Polykomos ({error:{…}}) */
function errorOf(body: unknown, text: string): { code?: string; message: string; hint?: string } {
  if (typeof body !== 'object' || body === null) return { message: text || 'the route answered no body' }
  const b = body as Record<string, unknown>
  const nested = typeof b.error === 'object' && b.error !== null ? (b.error as Record<string, unknown>) : undefined
  const code = str(b.code) ?? str(nested?.code)
  const detail = Array.isArray(b.detail) ? b.detail.map((d) => str((d as { msg?: unknown }).msg) ?? JSON.stringify(d)).join('; ') : str(b.detail)
  const message = str(b.message) ?? detail ?? str(nested?.message) ?? text
  return { code, message, hint: str(b.hint) }
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined)
