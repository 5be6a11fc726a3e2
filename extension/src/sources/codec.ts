/**
 * What the sources' cache-key codecs share. A key's parts are joined by {@link SEP}, the free-form part
 * (a name, a table) last or in a form that cannot hold the separator, so any character in it is safe.
 */

/** Between the parts of a cache key; the store puts it after the source's tag too. */
export const SEP = '\n';

/**
 * A region as a key part: `''` for none (the function's own), and escaped, so a region text holding the
 * separator (only a misconfigured environment could give one) cannot shift the other parts. Plain region
 * names (`us-west-2`) are unchanged.
 */
export function regionPart(region: string | undefined): string {
  return region === undefined ? '' : encodeURIComponent(region);
}

export function regionOfPart(part: string): string | undefined {
  return part === '' ? undefined : decodeURIComponent(part);
}

/**
 * The body in a buffer of its own. A small `Buffer.from` is a slice of a shared 8 KiB pool, and one live
 * slice keeps the whole pool block: cached bodies that outlive their neighbours would each hold up to
 * 8 KiB the budget never sees.
 */
export function own(body: Buffer): Buffer {
  if (body.byteLength === body.buffer.byteLength) return body;
  const copy = Buffer.allocUnsafeSlow(body.byteLength);
  body.copy(copy);
  return copy;
}

export const JSON_TYPE = 'application/json';
export const TEXT_TYPE = 'text/plain; charset=utf-8';
