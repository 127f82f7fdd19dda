// Every seeing and sharing screen, in one chunk loaded on demand by SeeScreen.
import "./see.css";
export { Compare } from "../screens/Compare";
export { Inbox, Received } from "../screens/Inbox";
export { Photo } from "../screens/Photo";
export { Redact } from "../screens/Redact";
export { Sent } from "../screens/Sent";
export { Share } from "../screens/Share";
export { Timeline } from "../screens/Timeline";
