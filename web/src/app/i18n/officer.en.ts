// English strings of the privacy office's screens (issue 10 §4): the review queue, retention
// rules and holds, certificates of destruction, the breach register and "who saw my photos".
// officer.fr.ts must give every key (tsc checks it); merged in index.ts.
export const officerEn = {
  navOfficer: "Privacy office",
  officerTitle: "Privacy office",
} as const;

export type OfficerKey = keyof typeof officerEn;
export type OfficerMessages = { readonly [K in OfficerKey]: string };
