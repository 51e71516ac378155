import { z } from 'zod';
import { defineEvent } from '../define-event';
import { nonNegativeInt, sha256Hex, storedText } from '../common';
import { DatasetDerived, DatasetRegistered, DatasetResolved } from './data';

const datasetRole = DatasetResolved.payload.shape.datasets.element.shape.role;

export const DatasetRegisteredV2 = defineEvent({
  type: 'dataset.registered',
  version: 2,
  owner: 'data',
  description:
    'A dataset version was imported: its rows are a content-addressed blob; versionHash identifies its canonical content. `skipped` names each row left out as invalid (its line in the file and why); format `concatenation` is the rows of several versions one after another.',
  payload: DatasetRegistered.payload.extend({
    /** `concatenation`: the rows of several versions one after another (see `dataset.derived`). */
    format: z.enum(['recon-csv', 'recon-cot-csv', 'jsonl', 'generated', 'concatenation']),
    skipped: z
      .array(z.strictObject({ line: z.number().int().positive(), reason: z.string().min(1).max(500) }))
      .max(10_000)
      .optional(),
  }),
});

const goldCheckerRef = z.strictObject({ name: z.string().min(1), version: z.string().min(1) });

/** A registered problem version with a gold corrected: the row, the original and new gold (null: withdrawn). */
const goldCorrection = {
  datasetVersion: sha256Hex,
  rowIndex: nonNegativeInt,
  category: z.string().min(1),
  originalGold: storedText,
  /** The gold every reading of the problem gives; null when its readings give different answers (none is the gold). */
  correctedGold: storedText.nullable(),
  checker: goldCheckerRef,
  /** How the checker computed its answer (e.g. head-to-head vote counts), enough to redo it by hand. */
  evidence: storedText.max(4000),
};

export const DatasetGoldCorrected = defineEvent({
  type: 'dataset.gold.corrected',
  version: 1,
  owner: 'data',
  description:
    "A gold label of a registered dataset version is wrong: a checker (named, with its version and evidence) solved the problem under every reading of it and none gives the gold. Recorded on the version's stream; runs resolved from then on use a derived version with the corrected gold (a gold of null withdraws the row from grading and reward); the original version stays as it was, so earlier runs are re-graded under the gold they used.",
  payload: z.strictObject(goldCorrection),
});

const categoryCheck = z.strictObject({
  category: z.string().min(1),
  checked: nonNegativeInt,
  agreed: nonNegativeInt,
  disagreed: nonNegativeInt,
  unparsed: nonNegativeInt,
});

const goldDisagreement = z.strictObject({
  rowIndex: nonNegativeInt,
  category: z.string().min(1),
  gold: storedText,
  /** `disagrees`: no reading gives the gold; `reading-dependent`: one reading gives it, another does not. */
  verdict: z.enum(['disagrees', 'reading-dependent']),
  computed: storedText,
  /** The answer of every reading, when they agree (what a correction would set). */
  correction: storedText.optional(),
  checker: z.string().min(1),
  evidence: storedText.max(4000),
});

export const DatasetGoldChecked = defineEvent({
  type: 'dataset.gold.checked',
  version: 1,
  owner: 'data',
  description:
    "The gold labels of a registered problem version were checked against solver answers (`recon dataset check-gold`): per category how many were solved, confirmed and not, and each gold not confirmed with the checker's evidence. Recorded on the version's stream.",
  payload: z.strictObject({
    datasetVersion: sha256Hex,
    checkerVersion: z.string().min(1),
    categories: z.array(categoryCheck),
    disagreements: z.array(goldDisagreement).max(10_000),
  }),
});

const distillationSource = DatasetDerived.payload.shape.from;

export const DatasetDerivedV2 = defineEvent({
  type: 'dataset.derived',
  version: 2,
  owner: 'data',
  description:
    "Where a dataset version's rows came from: a distillation job's accepted traces; a source version with its recorded gold corrections applied; or the rows of several versions one after another (a run that trains on generated and Recon data).",
  payload: z.strictObject({
    versionHash: sha256Hex,
    from: z.discriminatedUnion('kind', [
      distillationSource,
      z.strictObject({
        kind: z.literal('gold-corrections'),
        sourceVersionHash: sha256Hex,
        /** The `dataset.gold.corrected` events applied, by event id, with the source row each corrects. */
        corrections: z.array(z.strictObject({ eventId: z.string().min(1), rowIndex: nonNegativeInt })).min(1),
      }),
      z.strictObject({
        kind: z.literal('concatenation'),
        parts: z
          .array(
            z.strictObject({ name: z.string().min(1), versionHash: sha256Hex, rowCount: nonNegativeInt }),
          )
          .min(2),
      }),
    ]),
  }),
});

const qualityDataset = z.strictObject({
  role: datasetRole,
  name: z.string().min(1),
  versionHash: sha256Hex,
  rowCount: nonNegativeInt,
  /** Prompts that appear more than once (verbatim): how many distinct ones, the rows beyond the first, and those whose copies have different golds. */
  duplicatePrompts: z.strictObject({
    prompts: nonNegativeInt,
    extraRows: nonNegativeInt,
    conflictingGolds: nonNegativeInt,
    /** Up to 20 groups of row indices holding the same prompt. */
    examples: z.array(z.array(nonNegativeInt)).max(20),
  }),
});

export const DatasetQualityAssessed = defineEvent({
  type: 'dataset.quality.assessed',
  version: 1,
  owner: 'data',
  description:
    "What the data service found in a run's resolved datasets (recorded with `dataset.resolved`): duplicate prompts in each, evaluation prompts that also appear in a training set, the gold corrections applied and the golds a checker does not confirm.",
  payload: z.strictObject({
    datasets: z.array(qualityDataset),
    overlaps: z.array(
      z.strictObject({
        train: z.strictObject({ role: datasetRole, name: z.string().min(1) }),
        eval: z.strictObject({ name: z.string().min(1) }),
        /** Rows of the eval set whose prompt appears verbatim in the training set (up to 200 listed). */
        evalRows: nonNegativeInt,
        examples: z.array(nonNegativeInt).max(200),
      }),
    ),
    gold: z.array(
      z.strictObject({
        role: datasetRole,
        name: z.string().min(1),
        /** The version the golds were checked on (the imported one, before corrections). */
        versionHash: sha256Hex,
        categories: z.array(categoryCheck),
        /** Corrections recorded for that version and applied in this run (the resolved version is derived). */
        corrected: z.array(
          z.strictObject({
            rowIndex: nonNegativeInt,
            from: storedText,
            to: storedText.nullable(),
            checker: z.string().min(1),
          }),
        ),
        /** Golds the checker does not confirm that no recorded correction covers. */
        open: z.array(goldDisagreement).max(10_000),
      }),
    ),
  }),
});

export const dataQualityEvents = [
  DatasetRegisteredV2,
  DatasetDerivedV2,
  DatasetGoldChecked,
  DatasetGoldCorrected,
  DatasetQualityAssessed,
] as const;
