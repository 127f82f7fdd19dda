// The smallest interop program: proves the build of test/interop works (tests/webtools.py).
import { readFileSync } from "node:fs";

const input = readFileSync(0, "utf8");
process.stdout.write(JSON.stringify({ ok: true, echo: input }));
