// The api service's public entry: what the CLI (apps/cli) may import, as @recon/api. The service is the HTTP
// gateway (runs API, run explorer: src/http, src/explorer), the run supervisor that records run.completed
// (src/run) and the OpenAI-compatible server of `recon serve` (src/serve).
export { ApiModule, type ApiOptions } from './http/api.module';
export { ensureLocalAdminToken, LocalAdminTokenError, type LocalAdminToken } from './http/local-admin-token';
export { explorerAssetsDir } from './explorer/explorer-assets.controller';
export { RunSupervisorModule } from './run/run-supervisor.module';
export { expectedStages } from './run/run-supervisor';
export { createServeApp, type ServeAppOptions } from './serve/serve-app';
export { SERVE_TOKEN_ENV, serveTokenFrom, ServeTokenError } from './serve/serve-auth';
export { CheckpointNotFoundError, resolveCheckpoint } from './serve/resolve-checkpoint';
export { loadServedPolicy, PolicyNotServableError } from './serve/load-served-policy';
