// Lint setup: typescript-eslint's type-aware recommended rules over everything we write.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
