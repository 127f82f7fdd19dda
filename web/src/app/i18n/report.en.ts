// English strings of "Report a problem" (issue 10 §3, BRE-1): a lost or stolen phone, a photo
// sent to the wrong person, a photo shown by accident; and of the remote wipe's ending.
// report.fr.ts must give every key (tsc checks it); merged in index.ts.
export const reportEn = {
  navReport: "Report a problem",
  reportTitle: "Report a problem",
} as const;

export type ReportKey = keyof typeof reportEn;
export type ReportMessages = { readonly [K in ReportKey]: string };
