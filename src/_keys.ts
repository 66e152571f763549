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
