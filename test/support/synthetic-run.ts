export { syntheticRunEvents, TEST_PRODUCER } from '../../apps/cli/src/demo/synthetic-run';
