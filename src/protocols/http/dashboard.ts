// The web dashboard: static ES modules, HTML and CSS from the repository's `dashboard/` folder plus uPlot
// from node_modules, served from memory. The files are read once at registration (they are small and
// bounded), so a request never touches the disk and every response carries a content hash as ETag.
// The dashboard talks only to the public REST admin API; a strict Content-Security-Policy
// makes "no external requests" a browser-enforced property, not a convention.
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, extname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from '../../util/logger.js'

/** URL prefix of every dashboard asset (the page itself is at `/`). */
export const DASHBOARD_PREFIX = '/dashboard/'
/** Refuse to load an unexpectedly large tree into memory (the real one is ~100 KiB). */
const ASSET_BYTES_MAX = 8 * 1024 * 1024
const ASSET_FILES_MAX = 200

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
}

// 'unsafe-inline' for styles only: uPlot positions its legend and cursor with style attributes.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

interface Asset {
  body: Buffer
  type: string
  etag: string
  /** App files are unversioned (no build step), so they revalidate; vendored uPlot is pinned by the lockfile. */
  cacheControl: string
}

function asset(body: Buffer, path: string, cacheControl: string): Asset {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
  return { body, type: contentTypes[extname(path)] ?? 'application/octet-stream', etag, cacheControl }
}

/** The `dashboard/` folder: next to `src/` in a checkout, next to `dist/` in a build. */
function findDashboardDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'dashboard')
    if (existsSync(join(candidate, 'index.html'))) return candidate
    dir = dirname(dir)
  }
  return undefined
}

function loadAssets(root: string, logger: Logger): Map<string, Asset> {
  const assets = new Map<string, Asset>()
  let bytes = 0
  let full = false
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (full) return
      const path = join(dir, name)
      if (statSync(path).isDirectory()) {
        walk(path)
        continue
      }
      if (!(extname(name) in contentTypes)) continue
      const body = readFileSync(path)
      bytes += body.length
      if (bytes > ASSET_BYTES_MAX || assets.size >= ASSET_FILES_MAX) {
        logger.warn({ root }, 'dashboard assets over the size bound; serving what was loaded')
        full = true
        return
      }
      assets.set(relative(root, path).split(sep).join('/'), asset(body, name, 'no-cache'))
    }
  }
  walk(root)
  try {
    const require = createRequire(import.meta.url)
    for (const file of ['uPlot.esm.js', 'uPlot.min.css']) {
      const path = require.resolve(`uplot/dist/${file}`)
      assets.set(`vendor/${file}`, asset(readFileSync(path), path, 'public, max-age=86400'))
    }
  } catch (error) {
    logger.warn({ err: error }, 'uplot not installed; dashboard charts disabled')
  }
  return assets
}

function send(request: FastifyRequest, reply: FastifyReply, found: Asset): FastifyReply {
  reply
    .header('etag', found.etag)
    .header('cache-control', found.cacheControl)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('content-security-policy', CSP)
  if (request.headers['if-none-match'] === found.etag) return reply.code(304).send()
  return reply.code(200).header('content-type', found.type).send(found.body)
}

/** Serves the dashboard at `/` and its assets under `/dashboard/`. */
export function registerDashboard(app: FastifyInstance, logger: Logger): void {
  const root = findDashboardDir()
  const assets = root === undefined ? new Map<string, Asset>() : loadAssets(root, logger)
  if (root === undefined) logger.warn('dashboard folder not found; / serves a notice')

  app.get('/', async (request, reply) => {
    const index = assets.get('index.html')
    if (index === undefined)
      return reply
        .code(503)
        .header('content-type', 'text/plain; charset=utf-8')
        .send('Wharf dashboard assets are not installed; the REST admin API is at /api/v1.\n')
    return send(request, reply, index)
  })
  app.get(`${DASHBOARD_PREFIX}*`, async (request, reply) => {
    const path = (request.params as { '*': string })['*']
    const found = assets.get(path)
    if (found === undefined)
      return reply.code(404).header('content-type', 'text/plain; charset=utf-8').send(`no dashboard asset ${path}\n`)
    return send(request, reply, found)
  })
}
