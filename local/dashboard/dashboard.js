// The local web dashboard: sheets and visuals come from /dashboard/datasets.json (the data-set
// list of lambdas/shared/analytics/datasets.ts); every visual reads one data set through
// GET /analytics/{dataset} and is drawn by Apache ECharts (served from the npm package).
/* global echarts */

const state = { datasets: [], sheets: [], sheet: 'monthly', from: '', to: '', category: '', charts: [] };

const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const moneyFormat = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const decimalFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 });

function format(kind, value) {
  if (value === null || value === undefined) return '–';
  switch (kind) {
    case 'money':
      return moneyFormat.format(value);
    case 'rate':
      return `${(value * 100).toFixed(1)} %`;
    case 'integer':
      return numberFormat.format(value);
    case 'number':
      return decimalFormat.format(value);
    default:
      return String(value);
  }
}

function previousMonth(month) {
  const [y, m] = month.split('-').map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

async function fetchDataset(dataset, { from, to, category }) {
  const params = new URLSearchParams();
  if (from) params.set('from', from);
  if (to) params.set('to', to);
  if (category && dataset.params.includes('category')) params.set('category', category);
  const rows = [];
  let token;
  do {
    if (token) params.set('next_token', token);
    const res = await fetch(`/analytics/${dataset.name}?${params}`);
    const body = await res.json();
    if (!res.ok) throw new Error(`${dataset.name}: ${body.error}: ${body.message}`);
    rows.push(...body.rows);
    token = body.next_token;
  } while (token);
  return rows;
}

function columnOf(dataset, name) {
  return dataset.columns.find((c) => c.name === name) ?? { name, kind: 'string', label: name };
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function renderKpis(box, dataset, visual, rows) {
  const current = rows.find((r) => r.month.slice(0, 7) === state.to) ?? rows[rows.length - 1];
  const previous = current ? rows[rows.indexOf(current) - 1] : undefined;
  const tiles = el('div', { class: 'kpis' });
  for (const name of visual.values) {
    const col = columnOf(dataset, name);
    const value = current ? current[name] : null;
    const before = previous ? previous[name] : null;
    const tile = el('div', {
      class: 'kpi',
      'data-column': name,
      'data-value': value === null ? '' : String(value),
    });
    tile.append(
      el('div', { class: 'label' }, col.label),
      el('div', { class: 'value' }, format(col.kind, value)),
    );
    let change = 'no previous month';
    let cls = 'change';
    if (value !== null && before !== null && before !== undefined) {
      if (col.kind === 'rate') {
        const pts = (value - before) * 100;
        change = `${pts >= 0 ? '+' : ''}${pts.toFixed(1)} pts vs ${previous.month.slice(0, 7)}`;
        cls += pts >= 0 ? ' up' : ' down';
      } else if (before !== 0) {
        const pct = ((value - before) / Math.abs(before)) * 100;
        change = `${pct >= 0 ? '+' : ''}${pct.toFixed(1)} % vs ${previous.month.slice(0, 7)}`;
        cls += pct >= 0 ? ' up' : ' down';
      }
    }
    tile.append(el('div', { class: cls }, change));
    tiles.append(tile);
  }
  box.append(
    el('p', { class: 'note' }, current ? `Month ${current.month.slice(0, 7)}` : 'No data in the range'),
    tiles,
  );
}

function renderTable(box, dataset, visual, rows) {
  const cols = visual.values.map((n) => columnOf(dataset, n));
  const numeric = (c) => ['integer', 'money', 'rate', 'number'].includes(c.kind);
  const head = el('tr', {}, ...cols.map((c) => el('th', { class: numeric(c) ? 'num' : '' }, c.label)));
  const body = rows.map((r) =>
    el('tr', {}, ...cols.map((c) => el('td', { class: numeric(c) ? 'num' : '' }, format(c.kind, r[c.name])))),
  );
  box.append(
    el('div', { class: 'table-wrap' }, el('table', {}, el('thead', {}, head), el('tbody', {}, ...body))),
  );
}

function renderChart(box, dataset, visual, rows) {
  const div = el('div', { class: 'chart' });
  box.append(div);
  const chart = echarts.init(div, null, { renderer: 'canvas' });
  state.charts.push(chart);
  const tooltipFormat = (kind) => (v) => format(kind, v);
  let option;
  if (visual.kind === 'funnel') {
    const data = visual.values.map((n) => ({
      name: columnOf(dataset, n).label,
      value: rows.reduce((s, r) => s + (r[n] ?? 0), 0),
    }));
    option = {
      tooltip: { trigger: 'item', valueFormatter: tooltipFormat('integer') },
      series: [
        {
          type: 'funnel',
          sort: 'none',
          gap: 2,
          left: '5%',
          width: '55%',
          label: { formatter: (p) => `${p.name}: ${numberFormat.format(p.value)}` },
          data,
        },
      ],
    };
  } else {
    const xs = [
      ...new Set(rows.map((r) => String(r[visual.x]).slice(0, visual.x === 'month' ? 7 : undefined))),
    ];
    const key = (r) => String(r[visual.x]).slice(0, visual.x === 'month' ? 7 : undefined);
    let series;
    const kinds = [...new Set(visual.values.map((n) => columnOf(dataset, n).kind))];
    const axisOf = (n) => (kinds.length > 1 && columnOf(dataset, n).kind === kinds[1] ? 1 : 0);
    if (visual.seriesBy) {
      const groups = [...new Set(rows.map((r) => r[visual.seriesBy]))];
      const name = visual.values[0];
      series = groups.map((g) => ({
        name: String(g),
        type: visual.kind,
        stack: visual.kind === 'bar' ? 'total' : undefined,
        data: xs.map((x) => rows.find((r) => key(r) === x && r[visual.seriesBy] === g)?.[name] ?? null),
      }));
    } else {
      series = visual.values.map((n) => ({
        name: columnOf(dataset, n).label,
        type: visual.kind,
        yAxisIndex: axisOf(n),
        data: xs.map((x) => rows.find((r) => key(r) === x)?.[n] ?? null),
      }));
    }
    const yAxis = kinds.slice(0, 2).map((k) => ({
      type: 'value',
      axisLabel: { formatter: (v) => (k === 'rate' ? `${Math.round(v * 100)} %` : numberFormat.format(v)) },
    }));
    option = {
      tooltip: { trigger: 'axis', valueFormatter: tooltipFormat(kinds[0]) },
      legend: { type: 'scroll', bottom: 0 },
      grid: { left: 56, right: kinds.length > 1 ? 56 : 16, top: 16, bottom: visual.x === 'month' ? 56 : 96 },
      xAxis: { type: 'category', data: xs, axisLabel: { rotate: visual.x === 'month' ? 0 : 35 } },
      yAxis,
      series,
    };
  }
  chart.setOption(option);
}

async function renderVisual(box, dataset, visual) {
  const params = { from: state.from, to: state.to, category: state.category };
  if (visual.kind === 'kpi') params.from = previousMonth(state.from);
  const rows = await fetchDataset(dataset, params);
  box.dataset.rows = String(rows.length);
  if (visual.kind === 'kpi') renderKpis(box, dataset, visual, rows);
  else if (visual.kind === 'table') renderTable(box, dataset, visual, rows);
  else renderChart(box, dataset, visual, rows);
}

async function renderSheet() {
  const main = document.getElementById('sheet');
  for (const c of state.charts) c.dispose();
  state.charts = [];
  main.replaceChildren();
  main.dataset.state = 'loading';
  const jobs = [];
  for (const dataset of state.datasets) {
    for (const visual of dataset.visuals.filter((v) => v.sheet === state.sheet)) {
      const filtered = state.category && dataset.params.includes('category');
      const box = el('section', {
        class: `visual${visual.kind === 'kpi' ? ' kpi-group' : ''}`,
        'data-visual': visual.id,
        'data-dataset': dataset.name,
        'data-state': 'loading',
      });
      box.append(el('h2', {}, visual.title + (filtered ? ` — ${state.category}` : '')));
      main.append(box);
      jobs.push(
        renderVisual(box, dataset, visual).then(
          () => {
            box.dataset.state = 'ready';
          },
          (error) => {
            box.dataset.state = 'error';
            box.append(el('p', { class: 'error' }, String(error.message ?? error)));
          },
        ),
      );
    }
  }
  await Promise.all(jobs);
  main.dataset.state = 'ready';
  const query = new URLSearchParams({ sheet: state.sheet, from: state.from, to: state.to });
  if (state.category) query.set('category', state.category);
  history.replaceState(null, '', `?${query}`);
}

function renderTabs() {
  const nav = document.getElementById('sheets');
  nav.replaceChildren(
    ...state.sheets.map((s) => {
      const b = el(
        'button',
        { type: 'button', 'data-sheet': s.id, 'aria-selected': String(s.id === state.sheet) },
        s.title,
      );
      b.addEventListener('click', () => {
        state.sheet = s.id;
        renderTabs();
        void renderSheet();
      });
      return b;
    }),
  );
}

async function init() {
  const meta = await (await fetch('/dashboard/datasets.json')).json();
  state.datasets = meta.datasets;
  state.sheets = meta.sheets;
  const kpis = state.datasets.find((d) => d.name === 'monthly_kpis');
  const all = await fetchDataset(kpis, {});
  const months = all.map((r) => r.month.slice(0, 7));
  const url = new URLSearchParams(location.search);
  const last = months[months.length - 1] ?? new Date().toISOString().slice(0, 7);
  state.to = url.get('to') ?? last;
  state.from = url.get('from') ?? months[Math.max(0, months.length - 12)] ?? last;
  state.category = url.get('category') ?? '';
  state.sheet = url.get('sheet') ?? state.sheet;
  const from = document.getElementById('from');
  const to = document.getElementById('to');
  const category = document.getElementById('category');
  from.value = state.from;
  to.value = state.to;
  if (months.length > 0) {
    for (const input of [from, to]) {
      input.min = months[0];
      input.max = last;
    }
  }
  const categories = await fetchDataset(
    state.datasets.find((d) => d.name === 'categories'),
    {},
  );
  for (const c of categories) category.append(el('option', { value: c.category }, c.category));
  category.value = state.category;
  const apply = () => {
    if (!from.value || !to.value) return;
    // YYYY-MM strings sort as months do.
    const [first, last] = [from.value, to.value].sort();
    state.from = first;
    state.to = last;
    state.category = category.value;
    void renderSheet();
  };
  from.addEventListener('change', apply);
  to.addEventListener('change', apply);
  category.addEventListener('change', apply);
  window.addEventListener('resize', () => {
    for (const c of state.charts) c.resize();
  });
  renderTabs();
  await renderSheet();
}

init().catch((error) => {
  const main = document.getElementById('sheet');
  main.dataset.state = 'error';
  main.replaceChildren(el('p', { class: 'error' }, `dashboard failed to load: ${error.message}`));
});
