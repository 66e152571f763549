/** The `tsgi.*` keys every environ has (`env.tsgi.required`), for the validator and the conformance suite. */
export const REQUIRED_TSGI_KEYS = [
  'tsgi.version',
  'tsgi.url_scheme',
  'tsgi.input',
  'tsgi.errors',
  'tsgi.multithread',
  'tsgi.multiprocess',
  'tsgi.run_once',
  'tsgi.input_terminated',
  'tsgi.signal',
] as const;

/**
 * `tsgi.version` (`env.tsgi.version`), one frozen array for every environ: an application
 * cannot change it for the next request, and a server makes no array per request.
 */
export const TSGI_VERSION: readonly [1, 0] = Object.freeze([1, 0] as const);
