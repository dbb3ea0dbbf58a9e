// One SVG per scenario: request latency over time (log scale), naive beside tandem, one row per
// database. Per 20 ms of due times: the worst request (orange) and the median (blue); errors are red
// ticks along the top. Phases are shaded and labelled; other events (deploy, the long transaction)
// are dashed lines.
const W = 520;
const H = 230;
const M = { left: 48, right: 12, top: 34, bottom: 30 };
const Y_MIN = 0.1;
const Y_MAX = 10_000;

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function panel(summary, x0, y0) {
  const trace = summary.trace;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const end = Math.max(trace.end, 1);
  const sx = (t) => x0 + M.left + (Math.max(0, t) / end) * plotW;
  const sy = (ms) => {
    const v = Math.min(Y_MAX, Math.max(Y_MIN, ms));
    return y0 + M.top + plotH - ((Math.log10(v) - Math.log10(Y_MIN)) / (Math.log10(Y_MAX) - Math.log10(Y_MIN))) * plotH;
  };
  const out = [];
  const title = `${summary.db} · ${summary.tool} — max ${summary.max_ms?.toFixed(0)} ms, p99 ${summary.p99_during_ms?.toFixed(1)} ms, errors ${summary.errors}`;
  out.push(`<text x="${x0 + M.left}" y="${y0 + 16}" font-size="12" font-weight="bold">${esc(title)}</text>`);
  // Phases.
  trace.phases.forEach((p, i) => {
    const x = sx(p.start);
    const w = Math.max(1, sx(p.end) - x);
    out.push(`<rect x="${x.toFixed(1)}" y="${y0 + M.top}" width="${w.toFixed(1)}" height="${plotH}" fill="${i % 2 ? '#e8f4e8' : '#fdf1dc'}"/>`);
    out.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${y0 + M.top}" y2="${y0 + M.top + plotH}" stroke="#555" stroke-width="1"/>`);
    out.push(`<text x="${(x + 2).toFixed(1)}" y="${y0 + M.top + 10 + (i % 2) * 11}" font-size="10" fill="#333">${esc(p.label)} ${p.end - p.start} ms</text>`);
  });
  const lastPhase = trace.phases.at(-1);
  if (lastPhase) out.push(`<line x1="${sx(lastPhase.end).toFixed(1)}" x2="${sx(lastPhase.end).toFixed(1)}" y1="${y0 + M.top}" y2="${y0 + M.top + plotH}" stroke="#555"/>`);
  for (const [i, mark] of trace.marks.entries()) {
    const x = sx(mark.at).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${y0 + M.top}" y2="${y0 + M.top + plotH}" stroke="#7a3db8" stroke-dasharray="3,3"/>`);
    out.push(`<text x="${x}" y="${y0 + M.top + plotH - 4 - (i % 3) * 10}" font-size="9" fill="#7a3db8">${esc(mark.label)}</text>`);
  }
  // Axes and grid.
  for (let v = Y_MIN; v <= Y_MAX; v *= 10) {
    const y = sy(v).toFixed(1);
    out.push(`<line x1="${x0 + M.left}" x2="${x0 + M.left + plotW}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${x0 + M.left - 4}" y="${Number(y) + 3}" font-size="9" text-anchor="end">${v >= 1000 ? `${v / 1000} s` : `${v} ms`}</text>`);
  }
  const step = niceStep(end);
  for (let t = 0; t <= end; t += step) {
    out.push(`<text x="${sx(t).toFixed(1)}" y="${y0 + H - M.bottom + 12}" font-size="9" text-anchor="middle">${(t / 1000).toFixed(step < 1000 ? 1 : 0)} s</text>`);
  }
  out.push(`<rect x="${x0 + M.left}" y="${y0 + M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  // Series.
  const path = (index) => trace.points.map(([t, ...v], i) => `${i ? 'L' : 'M'}${sx(t).toFixed(1)},${sy(v[index - 1]).toFixed(1)}`).join('');
  out.push(`<path d="${path(2)}" fill="none" stroke="#e8820c" stroke-width="1"/>`);
  out.push(`<path d="${path(1)}" fill="none" stroke="#1f5fbf" stroke-width="1.2"/>`);
  for (const [t, , , errors] of trace.points) if (errors > 0) out.push(`<line x1="${sx(t).toFixed(1)}" x2="${sx(t).toFixed(1)}" y1="${y0 + M.top}" y2="${y0 + M.top + 8}" stroke="#d00" stroke-width="2"/>`);
  return out.join('\n');
}

function niceStep(endMs) {
  for (const step of [100, 200, 500, 1000, 2000, 5000, 10000, 20000, 60000]) if (endMs / step <= 8) return step;
  return 120000;
}

export function scenarioSvg(scenario, summaries) {
  const dbs = [...new Set(summaries.map((s) => s.db))];
  const tools = ['naive', 'tandem'];
  const width = W * tools.length;
  const height = H * dbs.length + 40;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(scenario.name)}: ${esc(scenario.title)} — ${summaries[0].rows.toLocaleString('en')} rows, 1,000 req/s</text>`,
    `<text x="10" y="34" font-size="10" fill="#555">request latency by due time (log scale): blue = median, orange = worst per 20 ms; red ticks = errors; shaded = phases</text>`,
  ];
  dbs.forEach((db, row) =>
    tools.forEach((tool, col) => {
      const summary = summaries.find((s) => s.db === db && s.tool === tool);
      if (summary) parts.push(panel(summary, col * W, 40 + row * H));
    }),
  );
  parts.push('</svg>');
  return parts.join('\n');
}
