import { hostname } from 'node:os';
import type { Producer } from '@recon/contracts';

export function trainingProducer(): Producer {
  return { service: 'training', version: '0.1.0', instance: `${hostname()}:${process.pid}` };
}
