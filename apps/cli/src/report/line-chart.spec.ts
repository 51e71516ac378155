import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { lineChartSvg, niceTicks } from './line-chart';

type Node = Record<string, unknown>;
const parse = (svg: string) =>
  new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'g' }).parse(
    svg,
  ).svg as Node & { g: Node[] };
const tickLabels = (svg: Node & { g: Node[] }, axis: 'x-tick' | 'y-tick') =>
  svg.g.filter((g) => g.class === axis).map((g) => String((g.text as Node)['#text']));

describe('the report line chart (SVG)', () => {
  const points = Array.from(
    { length: 120 },
    (_, i) => [i + 1, 6 * Math.exp(-i / 30) + 0.5] as [number, number],
  );
  const svg = lineChartSvg({ title: 'SFT loss per step', xLabel: 'step', yLabel: 'loss', points });

  it('is well-formed XML with an svg root', () => {
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(parse(svg).xmlns).toBe('http://www.w3.org/2000/svg');
  });

  it('has both axes, labelled ticks that cover the data, axis titles and one point per step', () => {
    const root = parse(svg);
    expect(root.g.filter((g) => g.class === 'x-axis')).toHaveLength(1);
    expect(root.g.filter((g) => g.class === 'y-axis')).toHaveLength(1);
    expect(tickLabels(root, 'x-tick')).toEqual(['20', '40', '60', '80', '100', '120']);
    const y = tickLabels(root, 'y-tick').map(Number);
    expect(y.length).toBeGreaterThanOrEqual(3);
    expect(Math.min(...y)).toBeLessThanOrEqual(Math.min(...points.map((p) => p[1])));
    expect(Math.max(...y)).toBeGreaterThanOrEqual(Math.max(...points.map((p) => p[1])));
    const texts = (root.text as Node[]).map((t) => t['#text']);
    expect(texts).toEqual(expect.arrayContaining(['SFT loss per step', 'step', 'loss']));
    expect(String((root.polyline as Node).points).split(' ')).toHaveLength(120);
  });

  it('stays valid for a flat series, a single point, no points and text that needs escaping', () => {
    for (const pts of [
      [
        [1, 2],
        [2, 2],
      ],
      [[5, 0.1]],
      [],
    ] as Array<Array<[number, number]>>) {
      const one = lineChartSvg({
        title: 'KL <per> step & "more"',
        xLabel: 'step',
        yLabel: 'KL',
        points: pts,
      });
      expect(XMLValidator.validate(one)).toBe(true);
      expect(tickLabels(parse(one), 'y-tick').length).toBeGreaterThan(0);
    }
  });

  it('picks round tick steps', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-3, 7, 6)).toEqual([-2, 0, 2, 4, 6]);
    expect(niceTicks(0.00012, 0.00051, 4)).toEqual([0.0002, 0.0003, 0.0004, 0.0005]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });
});
