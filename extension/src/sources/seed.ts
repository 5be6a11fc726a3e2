/**
 * What the seed's routes (`CACHE_EXTENSION_LEGACY_ROUTES=true`) of every source share: they serve only
 * what the config names, without a token, so anything else is refused before any backend call.
 */
import { HttpError } from '../errors.js';

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
