// IP allow lists of API keys: addresses and CIDR ranges (IPv4 and IPv6), matched with node's BlockList.
import { BlockList, isIP } from 'node:net'
import { AppError } from '../errors/app-error.js'

/** validates entries like "203.0.113.7", "10.0.0.0/8", "2001:db8::/32"; throws 400 naming a bad one */
export function validateAllowList(entries: string[]): string[] {
  return entries.map((entry) => {
    const [address, prefix] = entry.trim().split('/')
    const family = isIP(address)
    const bits = prefix === undefined ? undefined : Number(prefix)
    const max = family === 6 ? 128 : 32
    if (!family || (prefix !== undefined && (!/^\d+$/.test(prefix) || bits! > max))) {
      throw new AppError('invalid_request', `allowed_ips: "${entry}" is not an IP address or CIDR range`)
    }
    return entry.trim()
  })
}

export function compileAllowList(entries: string[]): BlockList | undefined {
  if (!entries.length) return undefined
  const list = new BlockList()
  for (const entry of entries) {
    const [address, prefix] = entry.split('/')
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4'
    if (prefix === undefined) list.addAddress(address, type)
    else list.addSubnet(address, Number(prefix), type)
  }
  return list
}

/** IPv4-mapped IPv6 addresses (::ffff:1.2.3.4) are checked as IPv4 */
export function ipAllowed(list: BlockList, ip: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  const address = mapped ? mapped[1] : ip
  const family = isIP(address)
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4')
}
