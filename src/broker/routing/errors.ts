// Router errors as data: each carries a code and the detail an adapter needs to word it in its own
// protocol's terms; the message is neutral English for logs and the embedded API.
import { type ErrorDetail, WharfError } from '../../util/errors.js'

export function exchangeNotFound(exchange: string): WharfError {
  return new WharfError('EXCHANGE_NOT_FOUND', `no exchange '${exchange}'`, { detail: { exchange } })
}

/** The default exchange routes by queue name only: it cannot be declared, deleted, bound or bound to. */
export function defaultExchangeRefused(): WharfError {
  return new WharfError('ACCESS_REFUSED', 'the default exchange cannot be declared, deleted or bound', {
    detail: { reason: 'default-exchange', exchange: '' },
  })
}

export function reservedExchangeName(exchange: string): WharfError {
  return new WharfError('ACCESS_REFUSED', `exchange name '${exchange}' starts with the reserved prefix 'amq.'`, {
    detail: { reason: 'reserved-name', exchange },
  })
}

export function predeclaredExchange(exchange: string): WharfError {
  return new WharfError('ACCESS_REFUSED', `exchange '${exchange}' is predeclared and cannot be deleted`, {
    detail: { reason: 'predeclared', exchange },
  })
}

export function internalExchange(exchange: string): WharfError {
  return new WharfError('ACCESS_REFUSED', `exchange '${exchange}' is internal and takes no direct publishes`, {
    detail: { reason: 'internal-exchange', exchange },
  })
}

export function exchangeInUse(exchange: string): WharfError {
  return new WharfError('PRECONDITION_FAILED', `exchange '${exchange}' has bindings`, {
    detail: { reason: 'in-use', exchange },
  })
}

export function unknownExchangeType(type: string): WharfError {
  return new WharfError('INVALID_ARGUMENT', `unknown exchange type '${type}'`, {
    detail: { reason: 'unknown-exchange-type', value: type },
  })
}

/** A redeclaration that differs from the existing exchange in a declaration field or an argument. */
export function inequivalentExchange(
  exchange: string,
  argument: string,
  field: boolean,
  received: unknown,
  current: unknown,
): WharfError {
  const detail: ErrorDetail = { reason: 'inequivalent', exchange, argument, field, received, current }
  return new WharfError(
    'PRECONDITION_FAILED',
    `exchange '${exchange}' exists with a different ${field ? '' : 'argument '}'${argument}'`,
    { detail },
  )
}

/** An argument whose value has the wrong type or lies outside its domain (`expected` says what fits). */
export function invalidArgument(exchange: string, argument: string, value: unknown, expected: string): WharfError {
  return new WharfError('PRECONDITION_FAILED', `argument '${argument}' of exchange '${exchange}' must be ${expected}`, {
    detail: { reason: 'invalid-value', exchange, argument, value, expected },
  })
}
