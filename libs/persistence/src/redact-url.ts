/** Query parameters that carry a credential: PostgreSQL's passwords, and API keys or tokens of HTTP endpoints. */
const SECRET_PARAMETER =
  /([?&](?:password|sslpassword|key|api[-_]?key|token|access[-_]token|auth|secret)=)[^&#]*/gi;

/** Redacts the password of a URL (a database connection, a model endpoint) and credential parameters. */
export function redactUrl(url: string): string {
  const start = url.indexOf('://');
  if (start < 0) return url;
  const rest = url.slice(start + 3);
  // The host follows the last '@': a password may itself hold '@', '/', ':' or '?'.
  const at = rest.lastIndexOf('@');
  const userinfo = at >= 0 ? rest.slice(0, at) : '';
  const user = userinfo.includes(':') ? `${userinfo.slice(0, userinfo.indexOf(':'))}:***` : userinfo;
  const hostAndQuery = (at >= 0 ? rest.slice(at + 1) : rest).replace(SECRET_PARAMETER, '$1***');
  return `${url.slice(0, start + 3)}${at >= 0 ? `${user}@` : ''}${hostAndQuery}`;
}
