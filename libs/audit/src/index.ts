// A run's audit: its hash chain against the signed log checkpoints (signed into the home's file and, with
// Kafka, its checkpoint topic), every blob it references, and the audit report. `recon audit` and the
// gateway's GET /runs/:id/audit and explorer audit page share it.
export * from './log-checkpoints';
export * from './run-audit';
export * from './audit-report';
