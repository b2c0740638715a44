// Tokenise .tcpspec files with VS Code's own TextMate engine (vscode-textmate + vscode-oniguruma)
// and report every non-blank piece of text that no rule of syntaxes/tcpspec.tmLanguage.json
// matched (it would keep the bare `source.tcpspec` scope). Exit 1 if there is any.
//   node scripts/check-grammar.js FILE...   (no FILE: checks the grammar loads)
"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

async function main(files) {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async () => {
      const file = path.join(__dirname, "..", "syntaxes", "tcpspec.tmLanguage.json");
      return vsctm.parseRawGrammar(fs.readFileSync(file, "utf8"), file);
    },
  });
  const grammar = await registry.loadGrammar("source.tcpspec");
  let unmatched = 0;
  for (const file of files) {
    let stack = vsctm.INITIAL;
    fs.readFileSync(file, "utf8").split("\n").forEach((line, n) => {
      const result = grammar.tokenizeLine(line, stack);
      for (const token of result.tokens) {
        const text = line.slice(token.startIndex, token.endIndex);
        if (token.scopes.length === 1 && text.trim() !== "") {
          console.log(`${file}:${n + 1}:${token.startIndex + 1}: unmatched ${JSON.stringify(text)}`);
          unmatched += 1;
        }
      }
      stack = result.ruleStack;
    });
  }
  console.log(`${files.length} files, ${unmatched} unmatched tokens`);
  return unmatched === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(2);
});
