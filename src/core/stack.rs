//! A JS stack string as frames, for `exception.structured_stacktrace.*`:
//! the four parallel arrays (urls, lines, columns, functions) that
//! Honeycomb's source-map symbolicator reads, and that the bundled
//! Collector's `sourcemap` processor maps back to the original source.
//!
//! Reads the three engines' formats without a regex (size): V8's
//! `at f (url:1:2)`, `at url:1:2`, `at async f (url:1:2)` and
//! `at eval (eval at f (url:1:2), <anonymous>:3:4)`; Firefox's and
//! Safari's `f@url:1:2`, `@url:1:2`, `f@url line 7 > eval:1:3` and
//! `f@[native code]`.

use alloc::vec::Vec;

use super::span::AttrValue;

/// At most this many frames are kept (the innermost ones): a deep
/// recursion's stack would otherwise fill a span with repeats.
pub const MAX_FRAMES: usize = 50;

/// One frame of a stack. A frame with no script location (native code,
/// `<anonymous>`) has an empty `url` and line and column 0; an anonymous
/// function has an empty `function`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackFrame<'a> {
    /// The function as the engine named it (`HTMLButtonElement.onclick`).
    pub function: &'a str,
    /// The script's URL.
    pub url: &'a str,
    /// Line, 1-based; 0 when unknown.
    pub line: u32,
    /// Column, 1-based; 0 when unknown.
    pub column: u32,
}

/// `url:line:col` (or `url:line`), or Firefox's eval form
/// `url line 7 > eval:1:3` (the line of the `eval` call in `url`).
fn location(loc: &str) -> Option<(&str, u32, u32)> {
    let num = |s: &str| super::num::parse_u64(s).and_then(|n| u32::try_from(n).ok());
    let (url, line, column) = if let Some((url, rest)) = super::text::split_once(loc, " line ") {
        (url, num(rest.split(' ').next()?)?, 0)
    } else {
        let (rest, last) = loc.rsplit_once(':')?;
        match rest.rsplit_once(':') {
            Some((url, line)) if num(line).is_some() => (url, num(line)?, num(last)?),
            // `url:line`, as Safari may write it; the last `:` of a URL
            // without a line is its scheme's or its port's.
            Some((_, tail)) if !tail.contains('/') => return None,
            _ => (rest, num(last)?, 0),
        }
    };
    let ok = !url.is_empty() && !url.starts_with('<') && !url.contains(|c: char| c.is_ascii_whitespace());
    ok.then_some((url, line, column))
}

/// The frames of a JS `stack` string, innermost first, at most
/// [`MAX_FRAMES`]. Lines that are not frames (the message) are skipped.
///
/// ```
/// use waggle_rum::core::stack::parse_stack;
/// let v8 = parse_stack("TypeError: x\n    at go (https://a.example/app.js:10:5)\n    at https://a.example/app.js:1:9");
/// assert_eq!((v8[0].function, v8[0].url, v8[0].line, v8[0].column), ("go", "https://a.example/app.js", 10, 5));
/// assert_eq!((v8[1].function, v8[1].column), ("", 9));
/// let gecko = parse_stack("go@https://a.example/app.js:3:7\n@https://a.example/app.js:9:1\n");
/// assert_eq!((gecko.len(), gecko[0].function, gecko[1].line), (2, "go", 9));
/// ```
pub fn parse_stack(stack: &str) -> Vec<StackFrame<'_>> {
    // A V8 stack starts with the message, which may hold an `@`; Firefox's
    // and Safari's hold frames only.
    let v8 = stack.lines().any(|l| l.trim_start().starts_with("at "));
    let mut frames = Vec::new();
    for line in stack.lines() {
        if frames.len() == MAX_FRAMES {
            break;
        }
        let line = line.trim();
        let (function, loc) = if v8 {
            let Some(at) = line.strip_prefix("at ") else { continue };
            let at = at.strip_prefix("async ").unwrap_or(at);
            match super::text::find(at, " (") {
                Some(open) if at.ends_with(')') => {
                    let loc = &at[open + 2..at.len() - 1];
                    // An eval frame: the script location is the innermost
                    // `(url:l:c)`, where eval was called.
                    let loc = match loc.rfind('(') {
                        Some(i) if loc.starts_with("eval at ") => loc[i + 1..].split(')').next().unwrap_or(""),
                        _ => loc,
                    };
                    (&at[..open], loc)
                }
                _ if location(at).is_some() => ("", at),
                _ => (at, ""),
            }
        } else {
            let Some(split) = line.split_once('@') else { continue };
            split
        };
        let (url, line, column) = location(loc).unwrap_or(("", 0, 0));
        frames.push(StackFrame { function, url, line, column });
    }
    frames
}

/// The `exception.structured_stacktrace.*` keys, in the order of
/// [`Column`]'s index.
pub const KEYS: [&str; 4] = [
    "exception.structured_stacktrace.urls",
    "exception.structured_stacktrace.lines",
    "exception.structured_stacktrace.columns",
    "exception.structured_stacktrace.functions",
];

/// One of the four arrays (the index into [`KEYS`]), one element per
/// frame, written straight from the frames rather than built as values
/// first (size).
///
/// ```
/// use waggle_rum::core::span::Attrs;
/// use waggle_rum::core::stack::{parse_stack, Column, KEYS};
/// let frames = parse_stack("Error: x\n    at go (https://a.example/app.js:10:5)\n    at Array.map (<anonymous>)");
/// let mut a = Attrs::default();
/// a.put(KEYS[1], Column(&frames, 1));
/// a.put(KEYS[3], Column(&frames, 3));
/// assert_eq!(String::from_utf8(a.json().to_vec()).unwrap(), concat!(
///     r#"{"key":"exception.structured_stacktrace.lines","value":{"arrayValue":{"values":[{"intValue":"10"},{"intValue":"0"}]}}},"#,
///     r#"{"key":"exception.structured_stacktrace.functions","value":{"arrayValue":{"values":[{"stringValue":"go"},{"stringValue":"Array.map"}]}}}"#));
/// ```
pub struct Column<'a>(pub &'a [StackFrame<'a>], pub usize);

impl AttrValue for Column<'_> {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"arrayValue\":{\"values\":[");
        for (i, f) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match self.1 {
                0 => f.url.write(out),
                1 => i64::from(f.line).write(out),
                2 => i64::from(f.column).write(out),
                _ => f.function.write(out),
            }
        }
        out.extend_from_slice(b"]}}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f<'a>(function: &'a str, url: &'a str, line: u32, column: u32) -> StackFrame<'a> {
        StackFrame { function, url, line, column }
    }

    #[test]
    fn v8_frames() {
        let stack = "TypeError: Cannot read properties of undefined (reading 'x')\n    at HTMLButtonElement.<anonymous> (http://localhost:8080/app.js:12:11)\n    at http://localhost:8080/app.js:3:9\n    at async load (https://x.example/b.js:7:1)\n    at new Widget (https://x.example/b.js:2:5)\n    at Array.forEach (<anonymous>)\n    at async Promise.all (index 0)\n    at <anonymous>\n    at native";
        assert_eq!(
            parse_stack(stack),
            vec![
                f("HTMLButtonElement.<anonymous>", "http://localhost:8080/app.js", 12, 11),
                f("", "http://localhost:8080/app.js", 3, 9),
                f("load", "https://x.example/b.js", 7, 1),
                f("new Widget", "https://x.example/b.js", 2, 5),
                f("Array.forEach", "", 0, 0),
                f("Promise.all", "", 0, 0),
                f("<anonymous>", "", 0, 0),
                f("native", "", 0, 0),
            ]
        );
    }

    #[test]
    fn v8_eval_frames_point_at_the_eval_call() {
        let stack = "Error: e\n    at eval (eval at run (http://h.test/a.js:4:10), <anonymous>:1:7)\n    at eval (eval at outer (eval at run (http://h.test/a.js:9:3), <anonymous>:1:1), <anonymous>:2:2)\n    at run (http://h.test/a.js:4:10)";
        let frames = parse_stack(stack);
        assert_eq!(frames[0], f("eval", "http://h.test/a.js", 4, 10));
        assert_eq!(frames[1], f("eval", "http://h.test/a.js", 9, 3));
        assert_eq!(frames[2], f("run", "http://h.test/a.js", 4, 10));
    }

    #[test]
    fn a_v8_message_with_an_at_sign_is_not_a_frame() {
        let stack = "Error: no user bob@example.com\nsecond line of the message\n    at go (https://a.example/app.js:1:2)";
        assert_eq!(parse_stack(stack), vec![f("go", "https://a.example/app.js", 1, 2)]);
    }

    #[test]
    fn firefox_frames() {
        let stack = "fail@https://x.example/c.js:4:2\nhandler/<@https://x.example/c.js:9:1\n@https://x.example/c.js:20:3\nrun@https://x.example/c.js line 7 > eval:1:3\nasync*start@https://x.example/c.js:30:5\n";
        assert_eq!(
            parse_stack(stack),
            vec![
                f("fail", "https://x.example/c.js", 4, 2),
                f("handler/<", "https://x.example/c.js", 9, 1),
                f("", "https://x.example/c.js", 20, 3),
                f("run", "https://x.example/c.js", 7, 0),
                f("async*start", "https://x.example/c.js", 30, 5),
            ]
        );
    }

    #[test]
    fn safari_frames() {
        let stack = "go@https://x.example/s.js:1:120\nforEach@[native code]\nglobal code@https://x.example/s.js:2:8\n@https://x.example/s.js:3\neval code@\neval@[native code]";
        assert_eq!(
            parse_stack(stack),
            vec![
                f("go", "https://x.example/s.js", 1, 120),
                f("forEach", "", 0, 0),
                f("global code", "https://x.example/s.js", 2, 8),
                f("", "https://x.example/s.js", 3, 0),
                f("eval code", "", 0, 0),
                f("eval", "", 0, 0),
            ]
        );
    }

    #[test]
    fn ports_and_odd_locations() {
        let frames = parse_stack("E\n    at f (http://localhost:8080/a.js:1:2)\n    at g (a.js:notanumber:1)\n    at h (<anonymous>:1:2)");
        assert_eq!(frames[0], f("f", "http://localhost:8080/a.js", 1, 2));
        assert_eq!(frames[1], f("g", "", 0, 0));
        assert_eq!(frames[2], f("h", "", 0, 0));
        assert!(parse_stack("").is_empty());
        assert!(parse_stack("just a message").is_empty());
    }

    #[test]
    fn odd_lines_are_read_without_panicking() {
        // Pieces of every form, glued in every pair: stacks come from page
        // code (an error's `stack` may be anything the page set).
        let parts = ["at ", " (", ")", "(", "eval at ", "@", ":", "1", "é", " line ", "async ", "\n", "<", "x"];
        for a in parts {
            for b in parts {
                for c in parts {
                    let s = alloc::format!("{a}{b}{c}{a}");
                    for f in parse_stack(&s) {
                        assert!(s.contains(f.url) && s.contains(f.function));
                    }
                }
            }
        }
    }

    #[test]
    fn frames_are_bounded() {
        let mut stack = String::from("RangeError: Maximum call stack size exceeded");
        for i in 0..200 {
            stack.push_str(&alloc::format!("\n    at r{i} (https://x.example/r.js:{i}:1)"));
        }
        let frames = parse_stack(&stack);
        assert_eq!(frames.len(), MAX_FRAMES);
        assert_eq!(frames[0].function, "r0");
        assert_eq!(frames[MAX_FRAMES - 1].line, MAX_FRAMES as u32 - 1);
    }
}
