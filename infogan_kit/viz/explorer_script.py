"""The explorer page's script (plain ES2017, no library), kept as one string.

State per run: the base sample (shared by all runs) and the codes moved away from it
(``touched``: code index -> slider position). Moving a code resets the others, except the
other code of the run's pair, so the frame shown is always one that was pre-rendered: the base
frame, a single-code traversal frame, or a pair-grid frame.
"""

SCRIPT = r"""
"use strict";
const DATA = JSON.parse(document.getElementById("explorer-data").textContent);
const state = {base: 0, touched: DATA.runs.map(() => new Map()), draws: DATA.runs.map(() => 0)};
const views = DATA.runs.map(() => ({sliders: new Map()}));
const imageCache = new Map();

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "text") node.textContent = value; else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}
function loadImage(uri) {
  if (!imageCache.has(uri)) {
    imageCache.set(uri, new Promise((resolve, reject) => {
      const image = new Image();
      image.onload = () => resolve(image);
      image.onerror = () => reject(new Error("cannot decode an embedded frame sheet"));
      image.src = uri;
    }));
  }
  return imageCache.get(uri);
}
function nearest(values, value) {
  let best = 0;
  values.forEach((v, i) => { if (Math.abs(v - value) < Math.abs(values[best] - value)) best = i; });
  return best;
}
function fmt(value) { return (Math.abs(value) < 1e-9 ? 0 : value).toFixed(2); }

function currentCodes(r) {
  const run = DATA.runs[r], codes = run.base_values[state.base].slice();
  for (const [code, position] of state.touched[r]) codes[code] = run.codes[code].values[position];
  return codes;
}
function frameSource(r) {
  const run = DATA.runs[r], touched = state.touched[r], b = state.base, keys = [...touched.keys()];
  if (keys.length === 0) return {uri: run.base_sheet, row: 0, col: b};
  if (keys.length === 1) return {uri: run.sheets[b], row: keys[0], col: touched.get(keys[0])};
  return {uri: run.pair_sheets[b], row: touched.get(run.pair[0]), col: touched.get(run.pair[1])};
}
async function drawFrame(r) {
  const run = DATA.runs[r], [, height, width] = run.frame, source = frameSource(r);
  const ticket = ++state.draws[r], image = await loadImage(source.uri);
  if (ticket !== state.draws[r]) return;
  const canvas = views[r].canvas, context = canvas.getContext("2d");
  context.imageSmoothingEnabled = false;
  context.clearRect(0, 0, width, height);
  context.drawImage(image, source.col * width, source.row * height, width, height, 0, 0, width, height);
  const codes = currentCodes(r), moved = [...state.touched[r].keys()].map((c) => run.codes[c].name);
  canvas.dataset.codes = JSON.stringify(codes);
  canvas.dataset.draws = String(ticket);
  views[r].caption.textContent = `base ${b1()}; ` + (moved.length ? `moved ${moved.join(", ")}` : "no code moved") +
    `: [${codes.map(fmt).join(", ")}]`;
  drawPair(r);
}
function b1() { return state.base + 1; }

function syncSlider(r, code) {
  const view = views[r].sliders.get(code), run = DATA.runs[r];
  if (!view) return;
  const touched = state.touched[r].has(code);
  const position = touched ? state.touched[r].get(code) : nearest(run.codes[code].values, run.base_values[state.base][code]);
  view.input.value = String(position);
  const value = touched ? run.codes[code].values[position] : run.base_values[state.base][code];
  view.output.textContent = (touched ? "" : "base ") + fmt(value);
  view.input.setAttribute("aria-valuetext", view.output.textContent);
}
function setCodes(r, assignments) {
  const touched = state.touched[r];
  for (const code of [...touched.keys()]) {
    if (!assignments.has(code)) { touched.delete(code); syncSlider(r, code); }
  }
  for (const [code, position] of assignments) { touched.set(code, position); syncSlider(r, code); }
  drawFrame(r);
}
function moveCode(r, code, position) {
  const run = DATA.runs[r], assignments = new Map([[code, position]]);
  const partner = run.pair[0] === code ? run.pair[1] : run.pair[1] === code ? run.pair[0] : null;
  if (partner !== null && state.touched[r].has(partner)) assignments.set(partner, state.touched[r].get(partner));
  setCodes(r, assignments);
}

function pairCursor(r) {
  const run = DATA.runs[r], [a, b] = run.pair, touched = state.touched[r], base = run.base_values[state.base];
  return [touched.has(a) ? touched.get(a) : nearest(run.codes[a].values, base[a]),
          touched.has(b) ? touched.get(b) : nearest(run.codes[b].values, base[b])];
}
async function drawPair(r) {
  const run = DATA.runs[r], [, height, width] = run.frame, canvas = views[r].pair;
  const image = await loadImage(run.pair_sheets[state.base]);
  const context = canvas.getContext("2d"), [row, col] = pairCursor(r);
  context.imageSmoothingEnabled = false;
  context.drawImage(image, 0, 0);
  const [a, b] = run.pair;
  if (state.touched[r].has(a) && state.touched[r].has(b)) {
    context.strokeStyle = "#f80";
    context.lineWidth = 3;
    context.strokeRect(col * width + 1.5, row * height + 1.5, width - 3, height - 3);
  }
}
function pairKey(r, event) {
  const run = DATA.runs[r], [a, b] = run.pair, steps = {ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1]};
  if (!(event.key in steps)) return;
  event.preventDefault();
  const [row, col] = pairCursor(r), [dr, dc] = steps[event.key];
  const clamp = (value, size) => Math.max(0, Math.min(size - 1, value));
  setCodes(r, new Map([[a, clamp(row + dr, run.codes[a].values.length)], [b, clamp(col + dc, run.codes[b].values.length)]]));
}

function buildBases() {
  const fieldset = document.getElementById("bases");
  DATA.runs[0].base_values.forEach((_, b) => {
    const radio = el("input", {type: "radio", name: "base", value: String(b), id: `base-${b}`});
    radio.checked = b === 0;
    radio.addEventListener("change", () => { if (radio.checked) setBase(b); });
    const label = el("label", {for: `base-${b}`}, radio, ` sample ${b + 1} `);
    DATA.runs.forEach((run) => {
      const [channels, height, width] = run.frame, thumb = el("canvas", {class: "thumb", width: width, height: height});
      loadImage(run.base_sheet).then((image) => thumb.getContext("2d").drawImage(image, b * width, 0, width, height, 0, 0, width, height));
      label.append(thumb);
    });
    fieldset.append(label);
  });
}
function setBase(b) {
  state.base = b;
  DATA.runs.forEach((run, r) => { run.codes.forEach((_, code) => syncSlider(r, code)); drawFrame(r); });
}
function buildCards() {
  const container = document.getElementById("runs");
  container.style.gridTemplateColumns = `repeat(${DATA.runs.length}, minmax(0, 1fr))`;
  DATA.runs.forEach((run, r) => {
    const [, height, width] = run.frame, [a, b] = run.pair;
    const canvas = el("canvas", {class: "frame", id: `frame-${r}`, width: width, height: height, role: "img",
                                 "aria-label": `${run.label}: the frame of the current codes`});
    const rows = run.codes[a].values.length, cols = run.codes[b].values.length;
    const pair = el("canvas", {class: "pair", id: `pair-${r}`, tabindex: "0", width: cols * width, height: rows * height,
                               "aria-label": `${run.label}: ${run.codes[a].name} (rows) x ${run.codes[b].name} (columns); arrow keys move both`});
    pair.addEventListener("keydown", (event) => pairKey(r, event));
    views[r].canvas = canvas;
    views[r].pair = pair;
    views[r].caption = el("div", {class: "caption", id: `caption-${r}`});
    container.append(el("div", {class: "card"}, el("h2", {text: `${run.label} (${run.model}, step ${run.step})`}), canvas,
      views[r].caption, el("p", {class: "muted", text: `pair grid: ${run.codes[a].name} down, ${run.codes[b].name} across`}), pair));
  });
}
function slider(r, code) {
  const run = DATA.runs[r], info = run.codes[code];
  const input = el("input", {type: "range", min: "0", max: String(info.values.length - 1), step: "1", id: `slider-${r}-${code}`,
                             "aria-label": `${run.label}: ${info.name}`});
  const output = el("output", {for: input.id});
  input.addEventListener("input", () => moveCode(r, code, Number(input.value)));
  views[r].sliders.set(code, {input, output});
  const name = info.name + (info.inactive ? "*" : "");
  const title = `${run.activity_name} ${info.activity.toPrecision(3)}` + (info.inactive ? " (inactive)" : "") +
    (info.kind === "categorical" ? "; categorical" : "");
  return el("div", {class: "slider" + (info.inactive ? " inactive" : ""), title: title},
            el("span", {class: "name", text: name}), input, output);
}
function buildSliders() {
  const table = document.getElementById("sliders");
  table.append(el("tr", {}, el("th", {text: DATA.factors.length ? "factor" : "position"}),
    ...DATA.runs.map((run) => el("th", {text: run.label}))));
  for (const row of DATA.rows) {
    table.append(el("tr", {}, el("th", {text: row.label}),
      ...row.cells.map((codes, r) => el("td", {}, ...codes.map((code) => slider(r, code))))));
  }
  DATA.runs.forEach((run, r) => run.codes.forEach((_, code) => syncSlider(r, code)));
}
function buildHeatmaps() {
  const container = document.getElementById("heatmaps");
  container.style.gridTemplateColumns = `repeat(${DATA.runs.length}, minmax(0, 1fr))`;
  DATA.runs.forEach((run) => {
    if (!DATA.factors.length) { container.append(el("p", {class: "muted", text: "the dataset has no ground-truth factors"})); return; }
    const table = el("table", {class: "heatmap"}, el("tr", {}, el("th", {text: run.label}), ...DATA.factors.map((f) => el("th", {text: f}))));
    for (const code of run.order) {
      const info = run.codes[code];
      table.append(el("tr", {}, el("th", {text: info.name + (info.inactive ? "*" : "")}), ...info.mi.map((value, k) => {
        const cell = el("td", {text: value.toFixed(2), class: k === info.factor ? "best" : "",
                               title: `chance level (shuffled factor) ${info.chance[k].toFixed(2)}`});
        cell.style.background = `rgba(30, 90, 200, ${Math.min(1, value).toFixed(3)})`;
        if (value > 0.5) cell.style.color = "#fff";
        return cell;
      })));
    }
    container.append(el("div", {}, table, el("p", {class: "muted", text: "boxed: the factor a code is paired by (its highest " +
      "MI/H at least 0.05 above chance, i.e. shuffled factors; hover a cell for it); * inactive, paired with none"})));
  });
}
function buildScores() {
  const container = document.getElementById("scores");
  container.style.gridTemplateColumns = `repeat(${DATA.runs.length}, minmax(0, 1fr))`;
  DATA.runs.forEach((run) => {
    const table = el("table", {class: "scores"}, el("tr", {}, el("th", {text: run.label}), el("th", {text: "protocol"}), el("th", {text: "value"})));
    for (const [protocol, entry] of Object.entries(run.scores)) {
      for (const [column, value] of Object.entries(entry.values)) {
        table.append(el("tr", {}, el("td", {text: column}), el("td", {text: protocol + (entry.comparable ? "" : " (not comparable)")}),
          el("td", {text: value === null ? "n/a" : value.toFixed(3)})));
      }
    }
    container.append(Object.keys(run.scores).length ? table : el("p", {class: "muted", text: `${run.label}: no metrics.json scores`}));
  });
}
buildBases();
buildCards();
buildSliders();
buildHeatmaps();
buildScores();
DATA.runs.forEach((_, r) => drawFrame(r));
"""
