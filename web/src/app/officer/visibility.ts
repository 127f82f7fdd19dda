// Whether the signed-in user is a privacy officer, for the navigation's "Privacy office"
// link. The server decides every request through its access policy; this only hides a link.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";

export function useIsOfficer(ready: boolean): boolean {
  const [officer, setOfficer] = useState(false);
  useEffect(() => {
    if (!ready) {
      setOfficer(false);
      return;
    }
    let live = true;
    api
      .me()
      .then((me) => {
        if (live) setOfficer(me.user.role === "privacy_officer");
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [ready]);
  return officer;
}
