/**
 * Parses an RFC 8288 `Link` header into `rel → URL` (the first link wins for a relation), as requests'
 * `response.links` does. A link with several relations (`rel="next last"`) is listed under each.
 */
export function parseLinkHeader(header: string | null | undefined, baseUrl?: string): Record<string, string> {
  const links: Record<string, string> = {};
  if (!header) return links;
  let i = 0;
  while (i < header.length) {
    const open = header.indexOf("<", i);
    if (open === -1) break;
    const close = header.indexOf(">", open + 1);
    if (close === -1) break;
    const target = header.slice(open + 1, close).trim();
    // Parameters run to the next comma that is not inside quotes.
    let j = close + 1;
    let quoted = false;
    while (j < header.length && (quoted || header[j] !== ",")) {
      if (header[j] === '"') quoted = !quoted;
      j += 1;
    }
    const params = header.slice(close + 1, j);
    for (const match of params.matchAll(/;\s*([^=;\s]+)\s*=\s*(?:"([^"]*)"|([^;\s]*))/g)) {
      if ((match[1] as string).toLowerCase() !== "rel") continue;
      const rels = (match[2] ?? match[3] ?? "").split(/\s+/).filter(Boolean);
      let url = target;
      if (baseUrl) {
        try {
          url = new URL(target, baseUrl).href;
        } catch {
          url = target;
        }
      }
      for (const rel of rels) links[rel.toLowerCase()] ??= url;
    }
    i = j + 1;
  }
  return links;
}
