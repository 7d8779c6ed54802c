// Lint setup: typescript-eslint's type-aware recommended rules over everything we write.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The module structure the build enforces. Import boundaries are lint rules, below; import cycles are
// `npm run cycles` (dpdm over src/), run by `npm test`. Type-only imports count as edges there: a
// module that needs another's types depends on it as much as one that calls it (a route module that
// imports a type from src/server.ts is tied to the composition root), and `import type` turns into a
// value import with one edit.
const PROVIDER_INTERNALS = {
  group: ['oidc-provider/lib', 'oidc-provider/lib/**'],
  message: "oidc-provider's internals are not its API: import its public exports only.",
};
const PROVIDER_OUTSIDE_OIDC = {
  group: ['oidc-provider', 'oidc-provider/**'],
  message: 'Only src/oidc/ imports oidc-provider; take what you need from a module there.',
};
const CONTAINER_IN_ROUTES = {
  regex: '^(\\.\\./)+container\\.ts$',
  message: 'Route modules take the few services they use as parameters, not the container (src/server.ts hands them in).',
};
const DATABASE_IN_PAGES = {
  regex: '^(\\.\\./)+storage/database\\.ts$',
  message: 'Pages take the services they use (src/container.ts builds them), never a database handle.',
};
const restrictedImports = (...patterns) => ['error', { patterns }];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.data/', 'test-results/', 'scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js', 'src/interactions/assets/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  { rules: { 'no-restricted-imports': restrictedImports(PROVIDER_INTERNALS) } },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/oidc/**'],
    rules: { 'no-restricted-imports': restrictedImports(PROVIDER_INTERNALS, PROVIDER_OUTSIDE_OIDC) },
  },
  {
    files: ['src/admin/**/*.ts'],
    rules: { 'no-restricted-imports': restrictedImports(PROVIDER_INTERNALS, PROVIDER_OUTSIDE_OIDC, CONTAINER_IN_ROUTES) },
  },
  {
    files: ['src/interactions/**/*.ts'],
    rules: { 'no-restricted-imports': restrictedImports(PROVIDER_INTERNALS, PROVIDER_OUTSIDE_OIDC, CONTAINER_IN_ROUTES, DATABASE_IN_PAGES) },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // chai's property assertions (`expect(x).to.be.true`) read as unused expressions.
      '@typescript-eslint/no-unused-expressions': 'off',
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
  {
    // The pages' browser scripts.
    files: ['src/interactions/assets/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { document: 'readonly', navigator: 'readonly', PublicKeyCredential: 'readonly', atob: 'readonly', btoa: 'readonly' } },
  },
);
