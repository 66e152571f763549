// Targets for the conformance suite's own tests: the reference server, toNodeListener on a
// plain node:http server, and a builder for deliberately broken variants of them.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningServer, ServerTarget, StartContext } from '../conformance/index.js';
import { serve, toNodeListener, type ServeOptions } from '../src/server.js';
import type { Application } from '../src/types.js';

/** The reference server, with its error output given to the suite. */
export function referenceTarget(options: ServeOptions = {}): ServerTarget {
  return {
    name: `reference serve()${options.scriptName ? ` at ${options.scriptName}` : ''}`,
    capabilities: { 'error-log': true, 'file-wrapper': true },
    async start(app, { errors }) {
      const server = await serve(app, { port: 0, quiet: true, errors, shutdownTimeout: 2000, ...options });
      return { host: '127.0.0.1', port: server.port, ...(options.scriptName ? { scriptName: options.scriptName } : {}), close: () => server.close() };
    },
  };
}

/** How a variant of toNodeListener on a plain node:http server differs from the documented setup. */
export interface PlainServerSetup {
  /** Wraps the application for each request, with that request's req and res: an app wrapper inside the server. */
  app?: (app: Application, req: http.IncomingMessage, res: http.ServerResponse) => Application;
  /** Runs before the listener sees the request. */
  request?: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  /** Options of http.createServer. */
  server?: http.ServerOptions;
  /** Register the listener for checkContinue, as docs/server.md says. Default: true. */
  checkContinue?: boolean;
  /** Set httpAllowHalfOpen, as docs/server.md says. Default: true. */
  halfOpen?: boolean;
}

/**
 * toNodeListener on `http.createServer`, set up as docs/server.md says unless `setup`
 * changes it. With `app` or `request`, the listener is made per request so that the
 * change can reach that request's req and res.
 */
export function plainServerTarget(name: string, setup: PlainServerSetup = {}): ServerTarget {
  return {
    name,
    // A plain http.Server's close() knows nothing of the exchanges a listener runs.
    capabilities: { 'error-log': true, 'file-wrapper': true, 'graceful-shutdown': false },
    async start(app: Application, { errors }: StartContext): Promise<RunningServer> {
      const options = { quiet: true, errors };
      const shared = toNodeListener(app, options);
      const listener =
        setup.app || setup.request
          ? (req: http.IncomingMessage, res: http.ServerResponse) => {
              setup.request?.(req, res);
              toNodeListener(setup.app ? setup.app(app, req, res) : app, options)(req, res);
            }
          : shared;
      const server = http.createServer(setup.server ?? {}, listener);
      if (setup.checkContinue !== false) server.on('checkContinue', listener);
      if (setup.halfOpen !== false) (server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return {
        host: '127.0.0.1',
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      };
    },
  };
}
