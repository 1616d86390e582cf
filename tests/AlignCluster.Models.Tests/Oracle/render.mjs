// Chat template oracle: renders Jinja templates with @huggingface/jinja, the renderer of transformers.js.
//   node render.mjs NODE_MODULES < cases.json > results.json
// stdin: [{"template": "...", "context": {...}}, ...]. stdout: one entry per case, {"text": "..."} or {"error": "..."}.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.argv[2], 'noop.js'));
const { Template } = require('@huggingface/jinja');
const cases = JSON.parse(readFileSync(0, 'utf8'));
const results = cases.map(({ template, context }) => {
  try {
    return { text: new Template(template).render(context) };
  } catch (e) {
    return { error: String(e.message ?? e) };
  }
});
process.stdout.write(JSON.stringify(results));
