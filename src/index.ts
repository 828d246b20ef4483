// Public embedded API: `import { createBroker } from 'wharf'`.
export { WharfError, isWharfError, type ErrorCode } from './util/errors.js'
