// Entry point: language, the app, and the service worker that keeps the shell offline.
import { render } from "preact";
import { App } from "./app";
import { applyLang } from "./i18n";
import "./styles.css";

applyLang();
const root = document.getElementById("app");
if (root) render(<App />, root);

if ("serviceWorker" in navigator && location.protocol !== "file:") {
  addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => undefined);
  });
}
