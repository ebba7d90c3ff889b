// The kinds of observations (page -> module) and commands (module ->
// page), as src/platform/protocol.rs numbers them; a native test holds the
// two to each other. Fields are documented where the Rust side reads them.

// Observations.
export const INIT = 1;
export const SHUTDOWN = 2;
export const FLUSH = 3;
export const TIMER = 4;
export const HIDE = 5;
export const SHOW = 6;
export const FREEZE = 7;
export const ONLINE = 8;
export const ANSWER = 9;
export const GZIPPED = 10;
export const SPANS = 11;
export const APP_WAITING = 12;
export const IDS = 13;
export const ENTER = 14;
export const EXIT = 15;
export const USER = 16;
export const GLOBALS = 17;
export const SESSION = 18;
export const ACTIVITY = 19;
export const EVENT = 20;
export const REQUEST = 21;
export const RESPONSE = 22;
export const ENTRY = 23;
export const LOADED = 24;
export const URL_CHANGE = 25;
export const TIMER_SET = 26;
export const TIMER_RUN = 27;
export const MUTATION = 28;
export const ERROR = 29;
export const UNSENT = 30;
export const ROUTE = 32;
export const CONSENT = 33;
export const FAULT = 99;
// What looks actionable to a click (src/core/frustration.rs, held equal by a test).
export const ACTIONABLE = 'a[href],button,input[type=button],input[type=submit],input[type=reset],input[type=image],summary,[role=button],[role=link],[role=menuitem],[role=tab],[onclick]';

// Commands.
export const C_LOG = 1;
export const C_TIMER = 2;
export const C_EXIT = 3;
export const C_CURRENT = 4;
export const C_CONTEXT = 5;
export const C_COMPRESS = 6;
export const C_POST = 7;
export const C_STORE = 8;
export const C_PULL = 9;
export const C_HEADERS = 10;
export const C_FOLLOW = 11;
export const C_IDS = 12;
export const C_WATCH = 13;
export const C_CONFIG = 14;
export const C_DONE = 15;
export const C_FAILED = 16;
export const C_FREE = 17;
export const C_CLAIM = 18;
export const C_CONSENT = 19;

// The id delivery's request answers come back under for the gzip probe.
export const PROBE = 0xffffffff;
