/** Injection tokens shared by every service. */
export const PLATFORM = Symbol('recon.platform');
export const EVENT_BUS = Symbol('recon.event-bus');
