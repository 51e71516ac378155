import { createScratchPlatform, type ScratchPlatform } from '@recon/persistence';

/** Integration tests run on a fresh database of the test server (see createScratchPlatform). */
export type TestPlatform = ScratchPlatform;
export const createTestPlatform = createScratchPlatform;
