// Validates an AsyncAPI document with the AsyncAPI parser: prints each diagnostic of severity
// error or warning, one line each, and exits 1 on an error.
// Usage: node validate.mjs ../../../schemas/asyncapi.yaml
import { readFile } from "node:fs/promises";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const path = process.argv[2];
const parser = new Parser();
const { document, diagnostics } = await parser.parse(await readFile(path, "utf8"));
let errors = 0;
for (const diagnostic of diagnostics) {
  if (diagnostic.severity > DiagnosticSeverity.Warning) continue;
  const level = diagnostic.severity === DiagnosticSeverity.Error ? "error" : "warning";
  errors += level === "error" ? 1 : 0;
  console.log(`${level}: ${diagnostic.code}: ${diagnostic.message} at ${diagnostic.path.join(".")}`);
}
if (errors || !document) process.exit(1);
console.log(`valid AsyncAPI ${document.version()}: ${document.channels().length} channels, ` +
            `${document.operations().length} operations, ${document.messages().length} messages`);
