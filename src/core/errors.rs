//! Exceptions: what `exception.type`, `exception.message` and
//! `exception.stacktrace` say for a thrown JS value, where in the code it
//! came from, and how bursts of the same error become one span.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use super::span::truncate_chars;
use super::stack::StackFrame;

/// A thrown value or rejection reason as the browser shell read it. Reading
/// runs page code (getters, `toString`), so the shell does it before
/// touching the agent and hands over plain strings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Thrown {
    /// Whether the value is an `Error` (or looks like one: a string
    /// `stack` and `message`).
    pub is_error: bool,
    /// `value.name`, if a string.
    pub name: Option<String>,
    /// `value.constructor.name`, if a string.
    pub constructor: Option<String>,
    /// `value.message`, if a string.
    pub message: Option<String>,
    /// `value.stack`, if a string.
    pub stack: Option<String>,
    /// For values that are not errors: the string itself, or a short
    /// rendering (JSON for plain objects, `String(value)` otherwise).
    pub text: Option<String>,
}

/// Where an exception was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A `window` `error` event: an exception nothing caught.
    Uncaught,
    /// An `unhandledrejection` event.
    UnhandledRejection,
    /// A `console.error` call.
    Console,
    /// A resource (`<img>`, `<script>`, `<link>`...) that failed to load.
    Resource,
}

impl Source {
    /// The value of `waggle.exception.source`.
    ///
    /// ```
    /// assert_eq!(waggle_rum::core::errors::Source::Console.as_str(), "console.error");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Uncaught => "uncaught",
            Source::UnhandledRejection => "unhandledrejection",
            Source::Console => "console.error",
            Source::Resource => "resource",
        }
    }

    /// `exception.type` for a thrown value that is not an `Error`.
    pub fn non_error_type(self) -> &'static str {
        match self {
            Source::Uncaught => "UncaughtException",
            Source::UnhandledRejection => "UnhandledRejection",
            Source::Console => "ConsoleError",
            Source::Resource => "ResourceLoadError",
        }
    }
}

/// The three `exception.*` attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExceptionInfo {
    /// `exception.type`.
    pub kind: String,
    /// `exception.message`.
    pub message: String,
    /// `exception.stacktrace`, if the value had a stack.
    pub stacktrace: Option<String>,
}

/// The `exception.*` attributes for a thrown value.
///
/// An `Error`'s type is its `name`, or for a subclass that kept the
/// inherited `name` of `"Error"`, its constructor's name; anything else
/// thrown gets the source's type (`UncaughtException`,
/// `UnhandledRejection`) and its text as the message.
///
/// ```
/// use waggle_rum::core::errors::{exception_info, Source, Thrown};
/// let t = Thrown { is_error: true, name: Some("Error".into()), constructor: Some("PaymentError".into()),
///     message: Some("declined".into()), ..Thrown::default() };
/// let info = exception_info(&t, Source::Uncaught);
/// assert_eq!((info.kind.as_str(), info.message.as_str()), ("PaymentError", "declined"));
/// let s = Thrown { text: Some("nope".into()), ..Thrown::default() };
/// assert_eq!(exception_info(&s, Source::UnhandledRejection).kind, "UnhandledRejection");
/// ```
pub fn exception_info(t: &Thrown, source: Source) -> ExceptionInfo {
    if t.is_error {
        let name = t.name.as_deref().filter(|n| !n.is_empty());
        let ctor = t.constructor.as_deref().filter(|c| !c.is_empty() && *c != "Object" && *c != "Error");
        let kind = match (name, ctor) {
            (Some("Error") | None, Some(c)) => c,
            (Some(n), _) => n,
            (None, None) => "Error",
        };
        ExceptionInfo {
            kind: kind.to_owned(),
            message: t.message.clone().unwrap_or_default(),
            stacktrace: t.stack.clone().filter(|s| !s.is_empty()),
        }
    } else {
        ExceptionInfo {
            kind: source.non_error_type().to_owned(),
            message: t.text.clone().unwrap_or_default(),
            stacktrace: None,
        }
    }
}

/// The type and message from an `ErrorEvent`'s `message` alone, for the
/// events that carry no error object (a cross-origin script's
/// `"Script error."`): `"Uncaught TypeError: x is not a function"` becomes
/// (`TypeError`, `x is not a function`).
///
/// ```
/// use waggle_rum::core::errors::from_event_message;
/// let info = from_event_message("Uncaught RangeError: too deep");
/// assert_eq!((info.kind.as_str(), info.message.as_str()), ("RangeError", "too deep"));
/// assert_eq!(from_event_message("Script error.").kind, "Error");
/// ```
pub fn from_event_message(message: &str) -> ExceptionInfo {
    let rest = message.strip_prefix("Uncaught ").unwrap_or(message);
    if let Some((name, msg)) = super::text::split_once(rest, ": ") {
        let looks_like_type = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
            && name.chars().next().is_some_and(|c| c.is_ascii_uppercase());
        if looks_like_type {
            return ExceptionInfo { kind: name.to_owned(), message: msg.to_owned(), stacktrace: None };
        }
    }
    ExceptionInfo { kind: "Error".to_owned(), message: rest.to_owned(), stacktrace: None }
}

/// Cuts a stack to at most `max_chars` characters, at a line end where one
/// fits, so the frames that remain are whole.
///
/// ```
/// use waggle_rum::core::errors::trim_stack;
/// let stack = "Error: x\n    at a (app.js:1:1)\n    at b (app.js:2:2)";
/// assert_eq!(trim_stack(stack, 30), "Error: x\n    at a (app.js:1:1)");
/// assert_eq!(trim_stack(stack, 1000), stack);
/// ```
pub fn trim_stack(stack: &str, max_chars: usize) -> &str {
    let cut = truncate_chars(stack, max_chars);
    if cut.len() == stack.len() || stack[cut.len()..].starts_with('\n') {
        return cut;
    }
    match cut.rfind('\n') {
        Some(i) if i > 0 => &cut[..i],
        _ => cut,
    }
}

/// A source location from a stack frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// `code.file.path`: the script's URL.
    pub file: String,
    /// `code.line.number`.
    pub line: u32,
    /// `code.column.number`.
    pub column: u32,
}

/// The first of a stack's frames (see [`parse_stack`](super::stack::parse_stack)) that names a
/// script location.
///
/// ```
/// use waggle_rum::core::errors::{first_frame, Frame};
/// use waggle_rum::core::stack::parse_stack;
/// let frames = parse_stack("TypeError: x\n    at <anonymous>\n    at go (https://a.example/app.js:10:5)");
/// assert_eq!(first_frame(&frames), Some(Frame { file: "https://a.example/app.js".into(), line: 10, column: 5 }));
/// assert_eq!(first_frame(&parse_stack("go@https://a.example/app.js:3:7")).unwrap().line, 3);
/// ```
pub fn first_frame(frames: &[StackFrame<'_>]) -> Option<Frame> {
    let f = frames.iter().find(|f| !f.url.is_empty())?;
    Some(Frame { file: f.url.to_owned(), line: f.line, column: f.column })
}

/// How long a burst lasts: the same error again within this many ms of the
/// last one joins the burst.
pub const BURST_GAP_MS: f64 = 1000.0;
/// A burst that never pauses is still reported this often, ms.
pub const BURST_MAX_MS: f64 = 10_000.0;
/// Distinct errors held open at once; more are reported without waiting
/// for repeats.
pub const MAX_OPEN_BURSTS: usize = 32;

/// One burst of identical errors.
#[derive(Clone, Debug, PartialEq)]
pub struct Burst<T> {
    /// What the first occurrence made (the shell's span).
    pub item: T,
    /// Occurrences, the first included.
    pub count: u64,
    /// When the first happened, ms.
    pub first_ms: f64,
    /// When the last happened, ms.
    pub last_ms: f64,
    key: String,
}

/// Identical errors (same key) close together become one burst: the first
/// occurrence's item, with a count. A burst ends [`BURST_GAP_MS`] after its
/// last occurrence, or [`BURST_MAX_MS`] after its first.
///
/// ```
/// use waggle_rum::core::errors::Bursts;
/// let mut b = Bursts::default();
/// for i in 0..20 {
///     let (first, _) = b.add("TypeError\0boom", i as f64 * 10.0, || "span");
///     assert_eq!(first, i == 0);
/// }
/// assert!(b.take_due(500.0).is_empty());
/// let done = b.take_due(1190.0 + 1.0);
/// assert_eq!((done.len(), done[0].count), (1, 20));
/// ```
#[derive(Clone, Debug)]
pub struct Bursts<T> {
    open: Vec<Burst<T>>,
}

impl<T> Default for Bursts<T> {
    fn default() -> Self {
        Bursts { open: Vec::new() }
    }
}

impl<T> Bursts<T> {
    /// Records an occurrence at `now_ms`. Makes an item with `make` only
    /// for the first of a burst (the `bool` is true then). When
    /// [`MAX_OPEN_BURSTS`] are open already, the oldest is closed early and
    /// handed back to be reported at once.
    pub fn add(&mut self, key: &str, now_ms: f64, make: impl FnOnce() -> T) -> (bool, Option<Burst<T>>) {
        if let Some(b) = self.open.iter_mut().find(|b| b.key == key && now_ms - b.first_ms < BURST_MAX_MS) {
            b.count += 1;
            b.last_ms = b.last_ms.max(now_ms);
            return (false, None);
        }
        let overflow = if self.open.len() >= MAX_OPEN_BURSTS { Some(self.open.remove(0)) } else { None };
        self.open.push(Burst { item: make(), count: 1, first_ms: now_ms, last_ms: now_ms, key: key.to_owned() });
        (true, overflow)
    }

    /// Bursts that are over at `now_ms`, removed.
    pub fn take_due(&mut self, now_ms: f64) -> Vec<Burst<T>> {
        let mut due = Vec::new();
        let mut i = 0;
        while i < self.open.len() {
            let b = &self.open[i];
            if now_ms - b.last_ms >= BURST_GAP_MS || now_ms - b.first_ms >= BURST_MAX_MS {
                due.push(self.open.remove(i));
            } else {
                i += 1;
            }
        }
        due
    }

    /// Every open burst, removed (the page is going away).
    pub fn take_all(&mut self) -> Vec<Burst<T>> {
        core::mem::take(&mut self.open)
    }

    /// When the next burst will be over, ms, if any is open.
    pub fn next_due(&self) -> Option<f64> {
        self.open.iter().map(|b| (b.last_ms + BURST_GAP_MS).min(b.first_ms + BURST_MAX_MS)).reduce(f64::min)
    }

    /// Whether no burst is open.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }
}

/// The key identical errors share: type, message, stack, and `extra`
/// (the URL of a resource that failed).
///
/// ```
/// use waggle_rum::core::errors::{dedup_key, ExceptionInfo};
/// let a = ExceptionInfo { kind: "TypeError".into(), message: "x".into(), stacktrace: None };
/// let b = ExceptionInfo { message: "y".into(), ..a.clone() };
/// assert_eq!(dedup_key(&a, ""), dedup_key(&a.clone(), ""));
/// assert_ne!(dedup_key(&a, ""), dedup_key(&b, ""));
/// ```
pub fn dedup_key(info: &ExceptionInfo, extra: &str) -> String {
    let stack = info.stacktrace.as_deref().unwrap_or("");
    let mut key = String::with_capacity(info.kind.len() + info.message.len() + stack.len() + extra.len() + 3);
    for (i, part) in [info.kind.as_str(), &info.message, stack, extra].into_iter().enumerate() {
        if i > 0 {
            key.push('\0');
        }
        key.push_str(part);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::stack::parse_stack;

    #[test]
    fn error_types_from_name_and_constructor() {
        let e = |name: Option<&str>, ctor: Option<&str>| Thrown {
            is_error: true,
            name: name.map(Into::into),
            constructor: ctor.map(Into::into),
            message: Some("m".into()),
            stack: Some("s".into()),
            text: None,
        };
        assert_eq!(exception_info(&e(Some("TypeError"), Some("TypeError")), Source::Uncaught).kind, "TypeError");
        assert_eq!(exception_info(&e(Some("Error"), Some("Error")), Source::Uncaught).kind, "Error");
        assert_eq!(exception_info(&e(Some("Error"), Some("MyError")), Source::Uncaught).kind, "MyError");
        assert_eq!(exception_info(&e(Some("Custom"), Some("MyError")), Source::Uncaught).kind, "Custom");
        assert_eq!(exception_info(&e(None, None), Source::Uncaught).kind, "Error");
        assert_eq!(exception_info(&e(Some(""), Some("Object")), Source::Uncaught).kind, "Error");
        let info = exception_info(&e(Some("TypeError"), None), Source::Console);
        assert_eq!(info.stacktrace.as_deref(), Some("s"));
        let no_stack = Thrown { stack: Some(String::new()), ..e(Some("E"), None) };
        assert_eq!(exception_info(&no_stack, Source::Uncaught).stacktrace, None);
    }

    #[test]
    fn non_errors_take_the_source_type() {
        let t = Thrown { text: Some("{\"code\":42}".into()), ..Thrown::default() };
        let info = exception_info(&t, Source::Uncaught);
        assert_eq!(info, ExceptionInfo { kind: "UncaughtException".into(), message: "{\"code\":42}".into(), stacktrace: None });
        assert_eq!(exception_info(&Thrown::default(), Source::UnhandledRejection).message, "");
        assert_eq!(exception_info(&t, Source::Console).kind, "ConsoleError");
    }

    #[test]
    fn event_messages() {
        let i = from_event_message("Uncaught TypeError: Cannot read properties of undefined (reading 'x')");
        assert_eq!(i.kind, "TypeError");
        assert_eq!(i.message, "Cannot read properties of undefined (reading 'x')");
        let i = from_event_message("Uncaught oh no: it broke");
        assert_eq!((i.kind.as_str(), i.message.as_str()), ("Error", "oh no: it broke"));
        assert_eq!(from_event_message("").message, "");
    }

    #[test]
    fn stack_trimming_keeps_whole_lines() {
        let stack = "E: m\n    at a (x.js:1:1)\n    at b (x.js:2:2)\n";
        assert_eq!(trim_stack(stack, stack.len()), stack);
        assert_eq!(trim_stack(stack, 25), "E: m\n    at a (x.js:1:1)");
        // One long line is cut where the limit falls.
        assert_eq!(trim_stack("abcdefgh", 3), "abc");
        // Counted in characters, not bytes.
        assert_eq!(trim_stack("ééé\néé", 5), "ééé");
    }

    #[test]
    fn frames_in_each_engine_format() {
        let v8 = "Error: boom\n    at HTMLButtonElement.<anonymous> (http://localhost:8080/pages/e/app.js:12:11)";
        assert_eq!(first_frame(&parse_stack(v8)), Some(Frame { file: "http://localhost:8080/pages/e/app.js".into(), line: 12, column: 11 }));
        let bare = "Error: boom\n    at http://localhost:8080/a.js:3:9";
        assert_eq!(first_frame(&parse_stack(bare)).unwrap().column, 9);
        let asynch = "Error\n    at async load (https://x.example/b.js:7:1)";
        assert_eq!(first_frame(&parse_stack(asynch)).unwrap().file, "https://x.example/b.js");
        let gecko = "fail@https://x.example/c.js:4:2\n@https://x.example/c.js:9:1";
        assert_eq!(first_frame(&parse_stack(gecko)).unwrap().line, 4);
        assert_eq!(first_frame(&parse_stack("Error: x\n    at native")), None);
        assert_eq!(first_frame(&parse_stack("Error: x\n    at f (<anonymous>:1:2)")), None);
        assert_eq!(first_frame(&parse_stack("no frames here")), None);
        assert_eq!(first_frame(&parse_stack("Error: x\n    at f (a.js:notanumber:1)")), None);
    }

    #[test]
    fn bursts_group_identical_errors_and_end_after_a_pause() {
        let mut b: Bursts<u32> = Bursts::default();
        let mut made = 0;
        assert!(b.add("k", 0.0, || { made += 1; 1 }).0);
        assert!(!b.add("k", 500.0, || { made += 1; 2 }).0);
        assert!(!b.add("k", 1400.0, || { made += 1; 3 }).0, "within 1 s of the last one");
        assert!(b.add("other", 1400.0, || { made += 1; 4 }).0);
        assert_eq!(made, 2);
        assert_eq!(b.next_due(), Some(2400.0));
        assert!(b.take_due(2399.0).is_empty());
        let due = b.take_due(2400.0);
        assert_eq!(due.len(), 2);
        assert_eq!((due[0].item, due[0].count, due[0].first_ms, due[0].last_ms), (1, 3, 0.0, 1400.0));
        assert_eq!((due[1].item, due[1].count), (4, 1));
        assert!(b.is_empty());
        assert_eq!(b.next_due(), None);
    }

    #[test]
    fn endless_bursts_are_cut_and_open_bursts_are_bounded() {
        let mut b: Bursts<u32> = Bursts::default();
        for i in 0..200 {
            b.add("k", i as f64 * 100.0, || i);
        }
        // 0..9900 is one burst; 10_000 starts another.
        let first = b.take_due(10_000.0);
        assert_eq!((first[0].item, first[0].count), (0, 100));
        assert_eq!(b.take_all().len(), 1);

        let mut closed = Vec::new();
        for i in 0..(MAX_OPEN_BURSTS as u32 + 3) {
            let (_, overflow) = b.add(&format!("k{i}"), 0.0, || i);
            closed.extend(overflow.map(|o| o.item));
        }
        assert_eq!(closed, vec![0, 1, 2]);
        assert_eq!(b.take_all().len(), MAX_OPEN_BURSTS);
    }

    #[test]
    fn keys_differ_by_type_message_stack_and_extra() {
        let i = ExceptionInfo { kind: "E".into(), message: "m".into(), stacktrace: Some("s".into()) };
        let j = ExceptionInfo { stacktrace: None, ..i.clone() };
        assert_ne!(dedup_key(&i, ""), dedup_key(&j, ""));
        assert_ne!(dedup_key(&i, "a"), dedup_key(&i, "b"));
        assert_eq!(dedup_key(&i, ""), dedup_key(&i.clone(), ""));
    }
}
