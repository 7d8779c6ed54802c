// The Content-Security-Policy of our pages: our own script, style and images only; forms may post to
// us and, because a browser applies form-action to the redirects that follow a POST, to the origin
// the sign-in returns to.
export function contentSecurityPolicy(formTargets: readonly string[] = []): string {
  const formAction = ["'self'", ...formTargets].join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}
