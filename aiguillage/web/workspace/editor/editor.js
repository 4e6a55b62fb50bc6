// The rules editor of the analyst's workspace: CodeMirror 6 over the page's <textarea id="content">.
//
// Progressive enhancement: without this script the textarea, the Check button and the server-rendered
// problem list do everything. With it: colouring of the rules language (keywords come from the grammar,
// via language.json), the real checker's diagnostics as you type (check.json: the messages, lines and
// columns of `aiguillage check`) underlined, in a gutter and in the list, and completion of field names
// from the field catalogue (fields.json) with their BT ids and descriptions. The textarea stays in the
// form, kept equal to the editor's text, so every button posts what is on screen.
// Build: `npm install && npm run build` here; the bundle ../static/editor.js is committed.

import { autocompletion, completionKeymap, closeBrackets } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { StreamLanguage, HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { linter, lintGutter } from "@codemirror/lint";
import { EditorState } from "@codemirror/state";
import { EditorView, keymap, lineNumbers, highlightActiveLine } from "@codemirror/view";
import { tags } from "@lezer/highlight";

function rulesLanguage(keywords) {
  const words = new Set(keywords);
  return StreamLanguage.define({
    name: "aiguillage-rules",
    token(stream) {
      if (stream.eatSpace()) return null;
      if (stream.match(/^#.*/)) return "comment";
      if (stream.match(/^"([^"\\\n]|\\.)*"?/)) return "string";
      if (stream.match(/^B[TG]-[0-9]+(-[0-9]+)?/)) return "typeName";
      if (stream.match(/^[0-9]{4}-[0-9]{2}-[0-9]{2}/)) return "number";
      if (stream.match(/^[0-9]+(\.[0-9]+)?/)) return "number";
      if (stream.match(/^[A-Z]{3}\b/)) return "unit";
      const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/);
      if (word) return words.has(word[0].toLowerCase()) ? "keyword" : "variableName";
      if (stream.match(/^(->|[<>=!]=?|[-+*\/])/)) return "operator";
      stream.next();
      return null;
    },
  });
}

// Colours with at least 4.5:1 contrast on white (WCAG AA).
const colours = HighlightStyle.define([
  { tag: tags.keyword, color: "#7a1f8f", fontWeight: "bold" },
  { tag: tags.string, color: "#1a6b1a" },
  { tag: tags.comment, color: "#5c5c5c", fontStyle: "italic" },
  { tag: tags.number, color: "#0b5394" },
  { tag: tags.unit, color: "#0b5394" },
  { tag: tags.typeName, color: "#8a4b00" },
  { tag: tags.operator, color: "#333333" },
]);

async function getJson(url) {
  const answer = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  return answer.ok ? answer.json() : null;
}

// Code lists, tables (with their columns) and lets the text may use: from the last check of the text.
const known = { codelists: [], tables: {}, lets: [] };

function fieldCompletions(fields, keywords) {
  const options = fields.map((f) => ({
    label: f.path.replaceAll("[]", ""),
    detail: f.id ? `${f.id} · ${f.type}` : f.type,
    info: f.description,
    type: f.type === "group" ? "class" : "property",
  }));
  for (const f of fields) if (f.id) options.push({ label: f.id, detail: f.path, info: f.description, type: "constant" });
  for (const k of keywords) options.push({ label: k, type: "keyword" });
  return (context) => {
    const codelist = context.matchBefore(/codelist\s+[A-Za-z0-9_\-]*/);
    if (codelist) {
      const from = codelist.from + codelist.text.search(/\S*$/);
      return { from, options: known.codelists.map((name) => ({ label: name, type: "enum", detail: "codelist" })) };
    }
    const column = context.matchBefore(/[a-z_][A-Za-z0-9_]*\[[^\]\n]*\]\.[A-Za-z0-9_]*/);
    if (column) {
      const table = column.text.slice(0, column.text.indexOf("["));
      const columns = known.tables[table] || [];
      const from = column.to - column.text.length + column.text.lastIndexOf(".") + 1;
      return { from, options: columns.map((name) => ({ label: name, type: "property", detail: `${table} column` })) };
    }
    const word = context.matchBefore(/[A-Za-z_][A-Za-z0-9_.\-]*/);
    if (!word || (word.from === word.to && !context.explicit)) return null;
    const names = [
      ...Object.keys(known.tables).map((name) => ({ label: name, type: "variable", detail: "table" })),
      ...known.lets.map((name) => ({ label: name, type: "variable", detail: "let" })),
    ];
    return { from: word.from, options: names.concat(options), validFor: /^[A-Za-z0-9_.\-]*$/ };
  };
}

function showList(box, found) {
  const list = document.createElement("ul");
  for (const d of found) {
    const item = document.createElement("li");
    item.className = `ws-${d.severity}`;
    const link = document.createElement("a");
    link.href = "#content";
    link.dataset.line = d.line;
    link.dataset.column = d.column;
    link.textContent = box.dataset.where.replace("LINE", d.line).replace("COLUMN", d.column);
    const severity = document.createElement("span");
    severity.className = `severity severity-${d.severity}`;
    severity.textContent = box.dataset[d.severity] || d.severity;
    item.append(link, " ", severity, " ", d.message);
    list.append(item);
  }
  box.replaceChildren();
  if (found.length) box.append(list);
  else {
    const none = document.createElement("p");
    none.textContent = box.dataset.none;
    box.append(none);
  }
}

function position(doc, line, column) {
  const at = doc.line(Math.min(Math.max(1, line), doc.lines));
  return Math.min(at.from + Math.max(0, column - 1), at.to);
}

async function start() {
  const form = document.getElementById("workspace");
  const area = document.getElementById("content");
  const box = document.getElementById("diagnostics");
  if (!form || !area) return;
  const [language, fields] = await Promise.all([getJson(form.dataset.language), getJson(form.dataset.fields)]);
  const keywords = (language && language.keywords) || [];
  const token = form.querySelector("input[name=csrf_token]").value;

  const check = linter(async (view) => {
    const asked = view.state.doc;
    const body = new FormData();
    body.append("content", asked.toString());
    const answer = await fetch(form.dataset.check, {
      method: "POST", body, credentials: "same-origin", headers: { "X-CSRFToken": token, Accept: "application/json" },
    });
    if (!answer.ok) return [];
    const report = await answer.json();
    if (view.state.doc !== asked) return []; // the text changed meanwhile: a newer check will answer
    showList(box, report.diagnostics);
    if (report.names && report.ok) Object.assign(known, report.names);
    const doc = view.state.doc;
    return report.diagnostics.map((d) => {
      const from = position(doc, d.line, d.column);
      return { from, to: Math.min(from + d.width, doc.line(Math.min(d.line, doc.lines)).to), severity: d.severity,
               message: d.message };
    });
  }, { delay: 400 });

  const label = document.querySelector("label[for=content]");
  label.id = label.id || "content-label";
  const view = new EditorView({
    parent: area.parentElement,
    state: EditorState.create({
      doc: area.value,
      extensions: [
        lineNumbers(), highlightActiveLine(), history(), closeBrackets(),
        rulesLanguage(keywords), syntaxHighlighting(colours),
        check, lintGutter(),
        autocompletion({ override: [fieldCompletions(fields || [], keywords)] }),
        keymap.of([...completionKeymap, ...defaultKeymap, ...historyKeymap]),
        EditorView.cspNonce.of(form.dataset.nonce || ""),
        EditorView.contentAttributes.of({ "aria-labelledby": label.id, "aria-describedby": "content-help diagnostics-heading",
                                          spellcheck: "false", autocapitalize: "off" }),
        EditorView.updateListener.of((update) => { if (update.docChanged) area.value = update.state.doc.toString(); }),
      ],
    }),
  });
  area.hidden = true;
  area.parentElement.classList.add("ws-enhanced");
  label.addEventListener("click", () => view.focus());
  box.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-line]");
    if (!link) return;
    event.preventDefault();
    const at = position(view.state.doc, Number(link.dataset.line), Number(link.dataset.column));
    view.dispatch({ selection: { anchor: at }, scrollIntoView: true });
    view.focus();
  });
  window.aiguillageEditor = view; // for the browser tests and the curious
}

start();
