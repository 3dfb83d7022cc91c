import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const ON_TIME = '#2f9e6e';
const LATE = '#e0823d';

/**
 * Stacked bars: completed per day, on time (green) under late (orange).
 * labels: x-axis labels; onTime, late: counts per label.
 */
export function CompletionChart({ labels, onTime, late, title, onTimeLabel, lateLabel }) {
  const box = useRef(null);
  const plot = useRef(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const xs = labels.map((_, i) => i);
    const total = onTime.map((v, i) => v + late[i]);
    const max = Math.max(1, ...total);
    const bars = uPlot.paths.bars({ size: [0.62, 48], gap: 2 });
    const opts = {
      width: Math.max(280, el.clientWidth),
      height: 240,
      title: '',
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: { x: { time: false, range: [-0.6, labels.length - 0.4] }, y: { range: [0, Math.ceil(max * 1.15) || 1] } },
      axes: [
        {
          values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? labels[v] || '' : '')),
          splits: () => xs,
          gap: 4,
          size: 36,
          grid: { show: false },
          stroke: '#5b6473',
          font: '12px system-ui, sans-serif',
        },
        {
          values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')),
          incrs: [1, 2, 5, 10, 20, 50, 100],
          size: 36,
          grid: { stroke: '#e8ebf0', width: 1 },
          stroke: '#5b6473',
          font: '12px system-ui, sans-serif',
        },
      ],
      series: [
        {},
        // Late is drawn as the full bar height; on-time on top of it from zero, so
        // the orange part that shows is exactly the late share.
        { label: lateLabel, fill: LATE, stroke: LATE, width: 0, paths: bars, points: { show: false } },
        { label: onTimeLabel, fill: ON_TIME, stroke: ON_TIME, width: 0, paths: bars, points: { show: false } },
      ],
    };
    plot.current = new uPlot(opts, [xs, total, onTime], el);
    const ro = new ResizeObserver(() => {
      if (plot.current) plot.current.setSize({ width: Math.max(280, el.clientWidth), height: 240 });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current && plot.current.destroy();
      plot.current = null;
    };
  }, [labels.join('|'), onTime.join(','), late.join(','), onTimeLabel, lateLabel]);

  const sumOn = onTime.reduce((a, b) => a + b, 0);
  const sumLate = late.reduce((a, b) => a + b, 0);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} class="chart-box" role="img" aria-label={`${title}: ${onTimeLabel} ${sumOn}, ${lateLabel} ${sumLate}`} data-testid="chart" />
    </figure>
  );
}
