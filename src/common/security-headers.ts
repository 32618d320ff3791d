import helmet from 'helmet';

type Headers = Readonly<Record<string, string>>;

/** Only the service's own scripts and styles (the wallboard and Swagger UI are both served by it). */
const DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
};

/**
 * helmet's headers, computed once. They are the same for every response, so
 * running helmet's middleware per request (as @fastify/helmet does: it
 * rebuilds the whole policy each time, a few percent of a cached read) buys
 * nothing. Two sets: over TLS, HSTS and `upgrade-insecure-requests`; over
 * plain HTTP neither, since a browser that opens the wallboard by a LAN
 * address or host name would otherwise fetch its scripts and socket over
 * https and fail (browsers exempt only localhost).
 */
export function securityHeaders(): { plain: Headers; secure: Headers } {
  return {
    secure: capture(helmet({ contentSecurityPolicy: { directives: DIRECTIVES } })),
    plain: capture(
      helmet({
        contentSecurityPolicy: { directives: { ...DIRECTIVES, upgradeInsecureRequests: null } },
        strictTransportSecurity: false,
      }),
    ),
  };
}

/** The headers a helmet middleware sets, recorded from one run on a stand-in response. */
function capture(middleware: ReturnType<typeof helmet>): Headers {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string) => (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => delete headers[name.toLowerCase()],
  };
  let failure: unknown;
  middleware({} as never, response as never, (error?: unknown) => (failure = error));
  if (failure) throw failure;
  return Object.freeze(headers);
}
