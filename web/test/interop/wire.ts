// The web app's library makes what the Python suite then checks with the Python code
// (tests/unit/test_wire_vectors.py): a sealed capture and share, a sealed caption, signed
// sign-in and acknowledgement messages, freshly generated device keys, a device vault record
// exactly as stored in IndexedDB, and age files of any size; it also opens age files that
// Python sealed. Reads one JSON request on stdin, writes one JSON answer on stdout; every
// part of the request is optional. Binary values travel as standard base64.

import "fake-indexeddb/auto";
import { readFileSync } from "node:fs";
import { openSealed, seal } from "../../src/lib/age";
import { b64Decode, b64Encode } from "../../src/lib/b64";
import { sealCapture, sealShare, sealText } from "../../src/lib/capture";
import { openDb } from "../../src/lib/db";
import { generateDeviceKeys, sha256Hex, sign } from "../../src/lib/keys";
import { ackMessage, loginMessage } from "../../src/lib/protocol";
import { Vault, type DeviceSecrets, type KdfParams } from "../../src/lib/vault";
import type { SealedCapture } from "../../src/lib/capture";

interface Request {
  seed?: string; // the signing seed for everything signed
  recipients?: string[];
  capture?: {
    image: string;
    content_type: string;
    patient_id: string;
    encounter_id: string;
    device_id: string;
    consent_id?: string;
    derived_from?: string;
    caption?: string;
    caption_warnings?: string[];
    caption_confirmed?: string;
  };
  share?: { plain: string; content_type: string; device_id: string; recipient_user_id: string; purpose: string; message?: string };
  login?: { device_id: string; email: string; timestamp: string };
  ack?: { share_id: string; plaintext_sha256: string };
  vault?: { passcode: string; kdf: KdfParams; secrets: DeviceSecrets };
  keys?: boolean;
  seal?: { plain: string }[];
  open?: { ciphertext: string; secret: string }[];
}

function sealedOut(s: SealedCapture): Record<string, string> {
  return {
    object_id: s.objectId,
    manifest_header: s.manifestHeader,
    manifest_bytes: b64Encode(s.manifestBytes),
    signature: s.signature,
    ciphertext: b64Encode(s.ciphertext),
    plaintext_sha256: s.plaintextSha256,
  };
}

async function main(): Promise<void> {
  const req = JSON.parse(readFileSync(0, "utf8")) as Request;
  const out: Record<string, unknown> = {};
  const seed = req.seed === undefined ? new Uint8Array(32) : b64Decode(req.seed);
  const recipients = req.recipients ?? [];

  if (req.capture) {
    const c = req.capture;
    const text =
      c.caption === undefined
        ? undefined
        : await sealText(
            "caption_sealed",
            c.caption,
            recipients,
            c.caption_warnings ? { kinds: c.caption_warnings, confirmed: c.caption_confirmed ?? "" } : undefined,
          );
    out.capture = sealedOut(
      await sealCapture(b64Decode(c.image), {
        contentType: c.content_type,
        patientId: c.patient_id,
        encounterId: c.encounter_id,
        deviceId: c.device_id,
        signingSeed: seed,
        recipients,
        ...(c.consent_id === undefined ? {} : { consentId: c.consent_id }),
        ...(c.derived_from === undefined ? {} : { derivedFrom: c.derived_from }),
        ...(text === undefined ? {} : { text }),
      }),
    );
  }
  if (req.share) {
    const s = req.share;
    const text = s.message === undefined ? undefined : await sealText("message_sealed", s.message, recipients);
    out.share = sealedOut(
      await sealShare(b64Decode(s.plain), {
        contentType: s.content_type,
        deviceId: s.device_id,
        signingSeed: seed,
        recipients,
        recipientUserId: s.recipient_user_id,
        purpose: s.purpose,
        ...(text === undefined ? {} : { text }),
      }),
    );
  }
  if (req.login) {
    const l = req.login;
    const message = loginMessage(l.device_id, l.email, l.timestamp);
    out.login = { message: b64Encode(message), signature: await sign(seed, message) };
  }
  if (req.ack) {
    const message = ackMessage(req.ack.share_id, req.ack.plaintext_sha256);
    out.ack = { message: b64Encode(message), signature: await sign(seed, message) };
  }
  if (req.vault) {
    const v = req.vault;
    const vault = await Vault.load({ kdf: v.kdf, floor: v.kdf });
    await vault.create(v.passcode, v.secrets);
    const db = await openDb();
    out.vault = { record: await db.get("vault", "device") };
  }
  if (req.keys) {
    const k = await generateDeviceKeys();
    out.keys = {
      age_secret: k.ageSecret,
      age_recipient: k.ageRecipient,
      signing_seed: b64Encode(k.signingSeed),
      signing_public: k.signingPublic,
    };
  }
  if (req.seal) {
    out.seal = await Promise.all(req.seal.map(async (s) => b64Encode(await seal(b64Decode(s.plain), recipients))));
  }
  if (req.open) {
    out.open = await Promise.all(
      req.open.map(async (o) => {
        try {
          return { sha256: await sha256Hex(await openSealed(b64Decode(o.ciphertext), o.secret)) };
        } catch (e) {
          return { error: e instanceof Error ? e.message : String(e) };
        }
      }),
    );
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
