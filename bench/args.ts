// The command-line switches the listener benchmarks share: --quick (fewer messages) and --durability.

export const quick = process.argv.includes('--quick')

const durabilityArg = process.argv[process.argv.indexOf('--durability') + 1]
/** --durability always|interval|never; always unless given. */
export const durability = durabilityArg === 'never' || durabilityArg === 'interval' ? durabilityArg : 'always'
