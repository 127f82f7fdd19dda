// English strings of the devices screens: your devices, adding one (its one-time code and QR
// code), giving a new device access to your earlier photos and shares (decision 011), and
// revoking one. devices.fr.ts must give every key (tsc checks it); merged in index.ts.
export const devicesEn = {
  navDevices: "Devices",

  // Your devices
  devTitle: "Your devices",
  devIntro:
    "Each phone or computer you use has its own keys. A new device opens your earlier photos and the shares sent to you once another of your devices gives it access.",
  devThisDevice: "this device",
  devEnrolled: "Enrolled {date}",
  devName: "Name",
  devEnrolledLabel: "Enrolled",
  devRevokedAt: "Revoked {date}",
  devStatus_active: "Active",
  devStatus_revoked: "Revoked",
  devFingerprint: "Fingerprint",
  devFingerprintIs: "Fingerprint:",
  devThisFingerprintHint:
    "When another of your devices gives this one access, check that it shows this same fingerprint.",
  devAdd: "Add a device",
  devGiveAccess: "Give access to {name}",
  devRevoke: "Revoke {name}",
  devRevokeConfirmTitle: "Revoke {name}?",
  devRevokeConfirmBody:
    "Its sessions end at once and it wipes clinphoto at its next contact with the server. A lost or replaced device should be revoked.",
  devRevokeYes: "Revoke it",
  devRevokeNo: "Keep it",
  devRevoking: "Revoking…",
  devRevoked: "{name} is revoked.",
  devLoading: "Loading your devices…",

  // Add a device
  devAddTitle: "Add a device",
  devAddIntro:
    "Get a one-time code for your new phone or computer. It works once, only for your account, and is recorded in the audit trail.",
  devGetCode: "Get a code",
  devGettingCode: "Asking for a code…",
  devCodeTitle: "One-time code",
  devCodeValid: "Valid for {hours} hours, until {date}.",
  devScanHint: "On the new phone, scan this QR code with the camera, or open {origin} and type the code.",
  devQrLabel: "QR code of the enrollment link for your new device",
  devCliHint: "On a computer: clinphoto device enroll --server {origin} --code {code}",
  devAfterEnroll:
    "Once the new device is enrolled, come back to Your devices on this phone and give it access to your earlier photos.",
  devBackToList: "Back to your devices",

  // Give access
  devAccessTitle: "Give access to a new device",
  devAccessIntro:
    "This device re-seals the key of each of your earlier photos and received shares for the new device. No photo is downloaded or sent again.",
  devNewDevice: "New device",
  devCheckFingerprint:
    "Compare this fingerprint with the one the new device shows under Your devices. If they differ, do not give access: tell your administrator.",
  devFingerprintMismatch:
    "The server’s fingerprint for this device does not match its keys. Nothing was given: tell your administrator.",
  devNotYours: "This is not one of your active devices.",
  devIsThisDevice: "This is this device: give access from another of your devices.",
  devConfirm: "The new device shows this same fingerprint",
  devConfirmMissing: "Check the fingerprint first.",
  devGrant: "Give access",
  devGranting: "Giving access…",
  devProgress: "Items examined: {objects}. Given access so far: {granted}.",
  devDone: "Done. Given access now: {granted}. Already given: {existing}. Items examined: {objects}.",
  devDoneNothing: "Nothing to do: the new device already opens everything this one can.",
  devUnopenable: "Items sealed before this device was enrolled, so it cannot give access to them: {count}. Give access from an older device of yours, or ask the records custodian.",
  devAgain: "Run again",
} as const;

export type DevicesKey = keyof typeof devicesEn;
export type DevicesMessages = { readonly [K in DevicesKey]: string };
