/**
 * Which upstream proxies a session may name: the pod's forwarding proxy speaks plain HTTP to its
 * upstream only. The request schema's pattern (PROXY_URL_PATTERN, published in /openapi.json) refuses
 * the rest with 400; this check says why in words for what a pattern cannot (an unparsable URL).
 * Pure: no I/O.
 */

/** Why `url` cannot be a session's upstream proxy, or undefined when it can. Never echoes secrets. */
export function proxyUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'proxy.url is not a valid URL';
  }
  if (parsed.protocol !== 'http:') {
    return `proxy.url scheme ${parsed.protocol.replace(/:$/, '')}:// is not supported; use an http:// proxy (it still carries HTTPS through CONNECT)`;
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return 'proxy.url must not carry credentials; send them as proxy.username and proxy.password';
  }
  if (parsed.hostname === '') return 'proxy.url has no host';
  if ((parsed.pathname !== '/' && parsed.pathname !== '') || parsed.search !== '' || parsed.hash !== '') {
    return 'proxy.url must be http://host:port with no path, query or fragment';
  }
  return undefined;
}
