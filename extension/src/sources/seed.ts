/**
 * What the seed's routes (`CACHE_EXTENSION_LEGACY_ROUTES=true`) of every source share: they serve only
 * what the config names, without a token, so anything else is refused before any backend call.
 */
import { parseLegacyPathName, parseLegacyQuery } from '@lambda-cache/shared';
import { HttpError } from '../errors.js';
import type { Read, SourceRoute } from './source.js';

/** How to read what the seed routes refuse: the v1 route, with the token. */
export function v1Hint(route: string): string {
  return `read it with GET ${route} and the X-Aws-Parameters-Secrets-Token header`;
}

/** The answer of a seed route asked for something the config does not name. */
export function notConfigured(what: string, route: string): HttpError {
  return HttpError.of(
    'NotFound',
    `the seed routes serve only configured entries, and config.yaml names no ${what}; ${v1Hint(route)}`,
  );
}

/**
 * The two seed routes of a source, `ROUTE?name=NAME` and `ROUTE/NAME` (percent-decoded), both without a
 * token and only with `CACHE_EXTENSION_LEGACY_ROUTES=true`; `read` turns the name into what to serve (or
 * refuses it, see {@link notConfigured}).
 */
export function seedRoutes<T>(route: string, read: (name: string) => Read<T>): Array<SourceRoute<T>> {
  return [
    {
      path: route,
      token: false,
      legacy: true,
      parse: (query) => read(parseLegacyQuery(new URLSearchParams(query))),
    },
    {
      path: `${route}/`,
      prefix: true,
      token: false,
      legacy: true,
      parse: (_query, path) => read(parseLegacyPathName(path.slice(route.length + 1))),
    },
  ];
}
