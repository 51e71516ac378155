export { syntheticRunEvents, TEST_PRODUCER } from '../../services/api/src/demo/synthetic-run';
