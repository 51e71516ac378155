import { h, inline } from './dom';
import type { ReportBlock } from './types';

/** The run report's blocks as elements (tables 3-5 as the markdown report has them). */
export function reportElements(
  blocks: readonly ReportBlock[],
  skipHeadings: readonly string[] = [],
): HTMLElement[] {
  const out: HTMLElement[] = [];
  let skipping = false;
  for (const block of blocks) {
    if (block.kind === 'heading') {
      skipping = skipHeadings.some((s) => block.text.startsWith(s));
      if (skipping || block.level === 1) continue;
      out.push(h(block.level === 2 ? 'h2' : 'h3', {}, ...inline(block.text)));
      continue;
    }
    if (skipping) continue;
    switch (block.kind) {
      case 'paragraph':
        out.push(h('p', {}, ...inline(block.text)));
        break;
      case 'list':
        out.push(h('ul', {}, ...block.items.map((item) => h('li', {}, ...inline(item)))));
        break;
      case 'code':
        out.push(h('pre', { class: 'sample' }, block.text));
        break;
      case 'table':
        out.push(
          h(
            'div',
            { class: 'table-scroll' },
            h(
              'table',
              { class: 'report' },
              h('thead', {}, h('tr', {}, ...block.head.map((c) => h('th', { scope: 'col' }, ...inline(c))))),
              h(
                'tbody',
                {},
                ...block.rows.map((row) => h('tr', {}, ...row.map((c) => h('td', {}, ...inline(c))))),
              ),
            ),
          ),
        );
        break;
      case 'image':
        break;
    }
  }
  return out;
}
