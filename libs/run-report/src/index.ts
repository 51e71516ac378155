// A run's report and the explorer's view of it, built from the run's events alone (no database, no I/O):
// the gateway serves them (GET /runs/:id/view, the explorer's pages), the CLI prints and writes them
// (`recon run`, `recon report`, `recon report --html`).
export * from './run-report';
export * from './run-view';
export * from './report-blocks';
export * from './report-format';
export * from './report-data-quality';
export * from './report-games';
export * from './report-problems';
export * from './report-ratings';
export * from './report-samples';
export * from './stage-changes';
