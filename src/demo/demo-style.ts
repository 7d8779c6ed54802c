// The demo apps' one stylesheet, served by each of them at /demo.css: the provider's look
// (src/interactions/assets/site.css) on the demo's own origin, the portal in the provider's red, the
// bank in its blue. Kept in a module, not a file, so the build carries it along with the code.
export const DEMO_STYLESHEET = `:root { --ink: #1b1f24; --muted: #5b6470; --accent: #b3261e; --line: #d9dde3; --bg: #f6f7f9; --code: #f1f3f5; }
body.bank { --accent: #0b5394; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--ink); background: var(--bg); }
header.top a { white-space: nowrap; }
header.top { display: flex; justify-content: space-between; align-items: center; gap: 1rem; padding: 0.75rem 1.25rem; background: #fff; border-bottom: 3px solid var(--accent); }
.brand { font-weight: 700; }
main { max-width: 46rem; margin: 2rem auto; padding: 1.5rem; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
body.bank main { max-width: 60rem; }
footer { max-width: 46rem; margin: 0 auto 2rem; padding: 0 1rem; color: var(--muted); font-size: 0.875rem; text-align: center; }
h1 { font-size: 1.5rem; margin-top: 0; }
h2 { font-size: 1.2rem; margin: 2rem 0 0.75rem; padding-bottom: 0.25rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.5rem 0 0.75rem; }
section.step h3 { margin-top: 0; }
h4 { font-size: 0.95rem; margin: 1rem 0 0.5rem; }
a { color: #0b57d0; }
a:focus, button:focus { outline: 3px solid #1a73e8; outline-offset: 2px; }
.button { display: inline-block; padding: 0.6rem 1.2rem; font: inherit; color: #fff; background: var(--accent); border: 1px solid var(--accent); border-radius: 4px; text-decoration: none; cursor: pointer; }
.actions { display: flex; flex-wrap: wrap; align-items: center; gap: 0.75rem 1rem; margin: 1.25rem 0; }
.actions form { margin: 0; }
.hint { padding: 0.75rem 1rem; background: var(--bg); border-radius: 4px; }
[role=alert] { padding: 0.75rem; border-left: 4px solid #b3261e; background: #fdecea; }
[role=status] { padding: 0.75rem; border-left: 4px solid #1e7b34; background: #e8f5ec; }
code, pre { font: 0.85rem/1.45 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
code { overflow-wrap: anywhere; }
pre { margin: 0.5rem 0 0; padding: 0.5rem 0.75rem; background: var(--code); border-radius: 4px; white-space: pre-wrap; overflow-wrap: anywhere; }
.raw { color: var(--muted); font-size: 0.85rem; }
dl.claims { display: grid; grid-template-columns: 16rem 1fr; margin: 0; border-top: 1px solid var(--line); }
dl.claims dt, dl.claims dd { margin: 0; padding: 0.5rem 0.75rem 0.5rem 0; border-bottom: 1px solid var(--line); }
dl.claims dt { font-weight: 600; }
dl.claims dt code { display: block; font-weight: 400; color: var(--muted); }
dl.claims dd { overflow-wrap: anywhere; }
dl.claims address { font-style: normal; }
table.fields { width: 100%; border-collapse: collapse; margin: 0.25rem 0; table-layout: fixed; }
table.fields th, table.fields td { padding: 0.35rem 0.5rem; text-align: left; vertical-align: top; border: 1px solid var(--line); }
table.fields th { width: 12rem; font: 600 0.85rem/1.45 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; background: var(--bg); overflow-wrap: anywhere; }
section.step { margin: 1.25rem 0; padding: 1rem 1.25rem; border: 1px solid var(--line); border-left: 4px solid var(--accent); border-radius: 4px; }
details summary { cursor: pointer; color: #0b57d0; font-size: 0.85rem; }
@media (max-width: 40rem) {
  main { margin: 0; border: 0; border-radius: 0; padding: 1.25rem 1rem; }
  dl.claims { grid-template-columns: 1fr; }
  dl.claims dt { padding-bottom: 0; border-bottom: 0; }
  table.fields, table.fields tbody, table.fields tr, table.fields th, table.fields td { display: block; width: auto; }
  table.fields tr { border: 1px solid var(--line); border-bottom: 0; }
  table.fields tr:last-child { border-bottom: 1px solid var(--line); }
  table.fields th, table.fields td { border: 0; }
  section.step { padding: 0.75rem; }
}
`;
