const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const boundaries = require('./eslint.boundaries');

module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.recon/**', 'coverage/**', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...boundaries,
);
