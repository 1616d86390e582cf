// Token-id oracle: encodes texts with two independent JavaScript implementations of Hugging Face tokenizers,
// @lenml/tokenizers (a fork of transformers.js) and @huggingface/tokenizers (tokenizers.js), from the same
// tokenizer.json + tokenizer_config.json files our C# reader loads.
//   node encode.mjs NODE_MODULES TOKENIZER_JSON TOKENIZER_CONFIG_JSON < texts.json > ids.json
// stdin: a JSON array of strings. stdout: {"lenml": [[ids]...], "hf": [[ids]...]} without special tokens added
// (the texts still may contain special tokens, which both split out), "lenmlWithSpecial" with them added, and
// "decoded": the texts decoded back from the ids by @huggingface/tokenizers (special tokens kept, no space clean-up).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [modules, tokenizerPath, configPath] = process.argv.slice(2);
const require = createRequire(path.join(modules, 'noop.js'));
const lenml = require('@lenml/tokenizers');
const hf = require('@huggingface/tokenizers');

const tokenizerJSON = JSON.parse(readFileSync(tokenizerPath, 'utf8'));
const tokenizerConfig = configPath ? JSON.parse(readFileSync(configPath, 'utf8')) : {};
const texts = JSON.parse(readFileSync(0, 'utf8'));

const a = lenml.TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
const b = new hf.Tokenizer(tokenizerJSON, tokenizerConfig);
const result = {
  lenml: texts.map(t => Array.from(a.encode(t, { add_special_tokens: false }))),
  lenmlWithSpecial: texts.map(t => Array.from(a.encode(t, { add_special_tokens: true }))),
  hf: texts.map(t => Array.from(b.encode(t, { add_special_tokens: false }).ids)),
};
result.decoded = result.hf.map(ids => ids.length === 0 ? "" // tokenizers.js refuses to decode nothing
  : b.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }));
process.stdout.write(JSON.stringify(result));
