// The app's device grants (src/lib/grants.ts), run for the Python suite
// (tests/unit/test_grant_vectors.py): for each age file given, unwrap its file key with the
// granting identity and write a grant header for the target recipients; Python then puts
// each grant in front of the file's payload and opens it with pyrage and the `age` CLI.
// Reads one JSON request on stdin, writes one JSON answer on stdout; binary values travel
// as standard base64.

import { readFileSync } from "node:fs";
import { b64Decode, b64Encode, hex } from "../../src/lib/b64";
import { fileKey, grantHeader, splitAge } from "../../src/lib/grants";

interface Request {
  grants: { ciphertext: string; secret: string; recipients: string[] }[];
}

async function main(): Promise<void> {
  const req = JSON.parse(readFileSync(0, "utf8")) as Request;
  const grants = [];
  for (const g of req.grants) {
    const [header] = splitAge(b64Decode(g.ciphertext));
    let key: Uint8Array;
    try {
      key = await fileKey(header, g.secret);
    } catch {
      grants.push({ refused: true });
      continue;
    }
    grants.push({ file_key_hex: hex(key), header: b64Encode(await grantHeader(key, g.recipients)) });
  }
  process.stdout.write(JSON.stringify({ grants }));
}

void main();
