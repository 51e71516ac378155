/** Unit tests sit beside their code (*.spec.ts); integration tests live in test/ (*.test.ts). */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  moduleNameMapper: {
    '^@recon/migrations$': '<rootDir>/migrations',
    // Services' public entries (src/index.ts), for the composition root apps/cli; before the libs.
    '^@recon/(api|data|evaluation|reward|rollout|training)$': '<rootDir>/services/$1/src',
    '^@recon/(.*)$': '<rootDir>/libs/$1/src',
  },
  testMatch: [
    '<rootDir>/apps/**/*.spec.ts',
    '<rootDir>/libs/**/*.spec.ts',
    '<rootDir>/services/**/*.spec.ts',
    '<rootDir>/test/**/*.test.ts',
  ],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.recon/'],
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  testTimeout: 60000,
};
