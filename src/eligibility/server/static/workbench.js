// The analyst workbench: what-if facts and parameters, evaluated by this service's /v1 API.
// No external requests, no inline script, no HTML built from strings (textContent only).
"use strict";

const VERDICTS = {
  "selected": ["✔", "selected", "v-selected"], "eligible-not-selected": ["○", "eligible, not selected", "v-notsel"],
  "undetermined": ["?", "undetermined", "v-undet"], "excluded": ["✘", "excluded", "v-excluded"],
  "error": ["!", "error", "v-error"],
};
const OUTCOMES = { met: ["✔", "met"], not_met: ["✘", "not met"], unknown: ["?", "unknown"],
  true: ["✔", "true"], false: ["✘", "false"] };

const state = { program: null, applicants: [], facts: {}, params: {}, pasted: null, token: "", seq: 0 };
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  for (const c of children) if (c != null) node.append(c);
  return node;
}

async function api(path, body) {
  const headers = { "Content-Type": "application/json" };
  if (state.token) headers["Authorization"] = "Bearer " + state.token;
  const res = await fetch(path, body === undefined ? { headers } : { method: "POST", headers, body: JSON.stringify(body) });
  const data = await res.json();
  if (res.status === 401) { $("token-box").hidden = false; }
  if (!res.ok) {
    const where = (data.errors || []).map((e) => (e.pointer ? e.pointer + ": " : "") + e.detail).join("; ");
    throw new Error(where || data.detail || res.statusText);
  }
  return data;
}

function badge(verdict) {
  const [sym, label, cls] = VERDICTS[verdict] || ["?", verdict, ""];
  return el("span", { class: "badge " + cls, "data-verdict": verdict }, el("span", { class: "sym", "aria-hidden": "true", text: sym + " " }), label);
}

function show(value) {
  if (value === null || value === undefined) return "unknown";
  return Array.isArray(value) ? "[" + value.join(", ") + "]" : String(value);
}

// -- controls ------------------------------------------------------------------------------
function profileFacts() {
  if (state.pasted) return state.pasted.facts || {};
  const a = state.applicants.find((x) => x.id === $("applicant").value);
  return a ? a.facts : {};
}

function factControl(name, spec) {
  const id = "fact-" + name;
  const label = el("label", { for: id, text: name });
  let input;
  if (spec.type === "bool" || spec.type === "enum") {
    input = el("select", { id, "data-fact": name });
    const values = spec.type === "bool" ? ["true", "false"] : spec.values;
    for (const v of [...values, "unknown"]) input.append(el("option", { value: v, text: v }));
  } else {
    input = el("input", { id, "data-fact": name, type: spec.type === "list" ? "text" : "number",
      "aria-describedby": id + "-help" });
  }
  input.addEventListener("change", () => {
    const raw = input.value.trim();
    const base = show(factValue(profileFacts()[name]));
    if (raw === base || (raw === "" && base === "unknown")) delete state.facts[name];
    else state.facts[name] = spec.type === "list" ? raw.split(",").map((s) => s.trim()).filter(Boolean)
      : raw === "" ? "unknown" : raw;
    mark(input, label, name in state.facts);
    refresh();
  });
  const help = el("span", { id: id + "-help", class: "muted", text: spec.description || "" });
  return el("div", {}, label, input, spec.type === "list" || spec.type === "int" || spec.type === "number" ? help : null);
}

function factValue(entry) {
  if (entry && typeof entry === "object" && !Array.isArray(entry) && "value" in entry) return entry.value;
  return entry;
}

function paramControl(name, spec) {
  const id = "param-" + name;
  const label = el("label", { for: id, text: name + (spec.unit ? " (" + spec.unit + ")" : "") });
  const isNumber = spec.type === "int" || spec.type === "number";
  const input = el("input", { id, "data-param": name, type: isNumber ? "range" : "text", value: String(spec.value) });
  if (isNumber) {
    input.min = "0"; input.max = String(Math.max(100, Number(spec.value) * 2)); input.step = spec.type === "int" ? "1" : "any";
  }
  const out = el("output", { for: id, id: id + "-value", text: String(spec.value) });
  input.addEventListener("input", () => { out.textContent = input.value; });
  input.addEventListener("change", () => {
    const value = isNumber ? Number(input.value) : input.value;
    if (String(value) === String(spec.value)) delete state.params[name]; else state.params[name] = value;
    mark(input, label, name in state.params);
    refresh();
  });
  return el("div", {}, label, input, " ", out, el("div", { class: "muted", text: spec.description || "" }));
}

function mark(input, label, changed) {
  input.classList.toggle("changed", changed);
  label.classList.toggle("changed-label", changed);
}

function resetControls() {
  const facts = profileFacts();
  for (const input of document.querySelectorAll("[data-fact]")) {
    input.value = show(factValue(facts[input.dataset.fact]));
    if (input.tagName === "INPUT" && input.value === "unknown") input.value = "";
    mark(input, input.previousElementSibling, false);
  }
  state.facts = {};
}

// -- results -------------------------------------------------------------------------------
function renderRecord(rec) {
  $("verdict").replaceWith(Object.assign(badge(rec.verdict), { id: "verdict" }));
  $("applicant-name").textContent = rec.applicant.name + " (" + rec.applicant.id + ")";
  $("reason").textContent = rec.reason;
  const scored = rec.criteria.filter((c) => c.kind === "scored");
  $("score").textContent = "score " + scored.map((c) => c.awarded).join(" + ") + " = " + rec.score + " of " +
    rec.score_max + " (threshold " + rec.threshold + ")";
  const because = Object.fromEntries((rec.trace ? rec.trace.criteria : []).map((c) => [c.id, c.because.join("; ")]));
  $("criteria").replaceChildren(...rec.criteria.map((c) => {
    const [sym, label] = OUTCOMES[c.outcome];
    return el("tr", { "data-criterion": c.id }, el("td", { text: c.id }), el("td", { text: c.kind }),
      el("td", { text: sym + " " + label }), el("td", { class: "num", text: c.kind === "scored" ? c.awarded + "/" + c.points : "" }),
      el("td", { text: because[c.id] || "" }));
  }));
  $("trace").replaceChildren(...(rec.trace ? rec.trace.criteria : []).map((c) => {
    const [sym, label] = OUTCOMES[c.outcome];
    const item = el("li", { "data-criterion": c.id }, el("strong", { text: sym + " " + label + "  " + c.id + ": " }), c.condition);
    if (c.tree) item.append(el("ul", {}, treeItem(c.tree)));
    if (c.source) item.append(el("div", { class: "muted", text: "source [" + c.source.ref + "] " + c.source.clause }));
    return item;
  }));
}

function treeItem(node) {
  const [sym] = OUTCOMES[node.outcome] || ["·"];
  let text = sym + " " + node.text;
  if (node.kind === "test") text += "  (actual " + (node.known ? show(node.actual) : "unknown") + ", expected " + node.expected + ")";
  const item = el("li", { "data-node": String(node.node) }, text);
  if (node.children && node.children.length) item.append(el("ul", {}, ...node.children.map(treeItem)));
  return item;
}

function renderPopulation(report) {
  const rows = report.applicants.slice().sort((a, b) => (a.new.rank || 1e9) - (b.new.rank || 1e9) || a.name.localeCompare(b.name));
  $("population").replaceChildren(...rows.map((r) => el("tr", { "data-applicant": r.id || r.path, class: r.status === "flipped" ? "flipped" : "" },
    el("td", { class: "num", text: r.new.rank == null ? "" : String(r.new.rank) }), el("td", { text: r.name }),
    el("td", {}, badge(r.old.verdict)), el("td", {}, badge(r.new.verdict)),
    el("td", { class: "num", text: r.new.score == null ? "" : String(r.new.score) }), el("td", { text: r.new.reason || r.new.error || "" }))));
  const flipped = rows.filter((r) => r.status === "flipped");
  $("flips").textContent = flipped.length ? "Flipped by the parameter changes: " +
    flipped.map((r) => r.name + " (" + r.old.verdict + " → " + r.new.verdict + ")").join(", ") : "No applicant's verdict changes.";
  $("patch").textContent = report.patch || "(no parameter changes yet)";
}

async function refresh() {
  const seq = ++state.seq;
  const who = state.pasted ? { profile: state.pasted } : { applicant: $("applicant").value };
  $("status").textContent = "Evaluating…";
  try {
    const [rec, impact] = await Promise.all([
      api("/v1/evaluate", { ...who, facts: state.facts, parameters: state.params, trace: true }),
      api("/v1/impact", { parameters: state.params }),
    ]);
    if (seq !== state.seq) return;          // a newer change is on its way
    renderRecord(rec);
    renderPopulation(impact);
    $("status").textContent = "Up to date: " + rec.applicant.name + " is " + rec.verdict + ".";
  } catch (err) {
    if (seq === state.seq) $("status").textContent = "Error: " + err.message;
  }
}

async function start() {
  try {
    const [programs, applicants] = await Promise.all([api("/v1/programs"), api("/v1/applicants")]);
    state.program = programs[0];
    state.applicants = applicants;
  } catch (err) {
    $("status").textContent = "Error: " + err.message;
    return;
  }
  const p = state.program;
  if (state.built) { refresh(); return; }
  state.built = true;
  $("program-title").textContent = p.title;
  $("program-authority").textContent = p.authority;
  $("applicant").replaceChildren(...state.applicants.map((a) => el("option", { value: a.id, text: a.name })));
  $("facts").append(...Object.entries(p.facts).map(([n, s]) => factControl(n, s)));
  $("parameters").append(...Object.entries(p.parameters).map(([n, s]) => paramControl(n, s)));
  $("applicant").addEventListener("change", () => { state.pasted = null; resetControls(); refresh(); });
  $("use-pasted").addEventListener("click", () => {
    try { state.pasted = JSON.parse($("pasted").value); }
    catch (err) { $("status").textContent = "Error: the pasted profile is not JSON: " + err.message; return; }
    resetControls(); refresh();
  });
  $("reset").addEventListener("click", () => {
    state.params = {};
    for (const input of document.querySelectorAll("[data-param]")) {
      input.value = String(p.parameters[input.dataset.param].value);
      $(input.id + "-value").textContent = input.value;
      mark(input, input.previousElementSibling, false);
    }
    resetControls(); refresh();
  });
  $("export").addEventListener("click", async () => {
    const report = await api("/v1/impact", { parameters: state.params });
    $("patch").textContent = report.patch || "(no parameter changes yet)";
    $("patch").focus();
  });
  $("token-use").addEventListener("click", () => { state.token = $("token").value; $("token-box").hidden = true; start(); });
  resetControls();
  refresh();
}

document.addEventListener("DOMContentLoaded", start);
