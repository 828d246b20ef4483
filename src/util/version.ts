// The version this build calls itself: package.json's, read once (src/ and dist/ are both two levels below it).
import { createRequire } from 'node:module'

export const wharfVersion: string = (createRequire(import.meta.url)('../../package.json') as { version: string })
  .version
