// A real supabase-js client pointed at Atrium: the base URL plus the X-Athena-Client header.
import { createClient } from '@supabase/supabase-js'
import ws from 'ws'

export function supabaseFor(baseUrl: string, key: string, client: string) {
  return createClient(baseUrl, key, {
    global: { headers: { 'X-Athena-Client': client } },
    auth: { persistSession: false, autoRefreshToken: false },
    // Node 20 has no global WebSocket; supabase-js wants one for realtime even when it is not used
    realtime: { transport: ws as never },
  })
}
