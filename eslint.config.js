// typescript-eslint's type-checked recommended rules over lib/, test/ and bench/ (npm run lint, zero warnings).
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tap/**', 'eslint.config.js', 'test/bin/**', 'resource.d/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // tap tracks every t.test() it is handed and waits for it: not a floating promise.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafePromises: [{ from: 'package', package: '@tapjs/core', name: 'PromiseWithSubtest' }] }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // Test and bench callbacks (tap's, the kits' waitFor probes, scenario hooks) are written async
      // throughout, so adding an await never changes their shape.
      '@typescript-eslint/require-await': 'off',
    },
  },
)
