import { hostname } from 'node:os';
import type { Producer } from '@recon/contracts';

export const DATA_SERVICE_VERSION = '0.1.0';

export function dataProducer(): Producer {
  return { service: 'data', version: DATA_SERVICE_VERSION, instance: `${hostname()}:${process.pid}` };
}
