import { EventLog1732500000000 } from './1732500000000-EventLog';
import { ReadModels1732500000001 } from './1732500000001-ReadModels';
import { ConsumerOffsets1732500000002 } from './1732500000002-ConsumerOffsets';
import { ApiTokens1732500000010 } from './1732500000010-ApiTokens';
import { Tombstones1732500000011 } from './1732500000011-Tombstones';
import { RunKinds1732500000012 } from './1732500000012-RunKinds';
import { AppendOnlyLog1732500000013 } from './1732500000013-AppendOnlyLog';
import { RunLastEventAt1732500000014 } from './1732500000014-RunLastEventAt';

/** Every migration in order; listed explicitly so the same list works compiled, under jest and bundled. */
export const MIGRATIONS = [
  EventLog1732500000000, ReadModels1732500000001, ConsumerOffsets1732500000002, ApiTokens1732500000010,
  Tombstones1732500000011, RunKinds1732500000012, AppendOnlyLog1732500000013, RunLastEventAt1732500000014,
];
