import { table } from './report-format';
import { reportBlocks } from './report-blocks';

describe('reportBlocks', () => {
  it('reads the report markdown back as headings, paragraphs, lists, tables (bars kept) and code', () => {
    const markdown = [
      '# Recon run r1',
      '',
      '- status: completed',
      '- events: 3',
      '',
      '## Table 3 — held-out accuracy by stage',
      '',
      'Evaluated: all 20 rows of `eval`.',
      '',
      table(['stage', 'answer'], [['sft', 'a | b']]),
      '',
      '```text',
      '<script>x</script>',
      '```',
    ].join('\n');
    expect(reportBlocks(markdown)).toEqual([
      { kind: 'heading', level: 1, text: 'Recon run r1' },
      { kind: 'list', items: ['status: completed', 'events: 3'] },
      { kind: 'heading', level: 2, text: 'Table 3 — held-out accuracy by stage' },
      { kind: 'paragraph', text: 'Evaluated: all 20 rows of `eval`.' },
      { kind: 'table', head: ['stage', 'answer'], rows: [['sft', 'a | b']] },
      { kind: 'code', text: '<script>x</script>' },
    ]);
  });
});
