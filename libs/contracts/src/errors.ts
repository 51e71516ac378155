/** An event (or its envelope) that does not satisfy its contract. The message names the type and field. */
export class ContractViolationError extends Error {
  constructor(
    readonly eventType: string,
    readonly field: string,
    readonly reason: string,
    readonly where?: string,
  ) {
    super(
      `${where ? `${where}: ` : ''}invalid event '${eventType}'${field ? ` at field '${field}'` : ''}: ${reason}`,
    );
    this.name = 'ContractViolationError';
  }
}

export class UnknownEventTypeError extends ContractViolationError {
  constructor(eventType: string, version: number | undefined, where?: string) {
    super(
      eventType,
      'type',
      version === undefined ? 'unknown event type' : `unknown schema version ${version}`,
      where,
    );
    this.name = 'UnknownEventTypeError';
  }
}
