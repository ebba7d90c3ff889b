//! Long animation frames (`core::loaf`). The page sends each
//! `long-animation-frame` entry as `[ENTRY, 8, startTime, duration,
//! blockingDuration, renderStart, styleAndLayoutStart, scripts]`, where
//! each script is `[sourceURL, sourceFunctionName, invoker, invokerType,
//! startTime, duration, forcedStyleAndLayoutDuration]`.
//!
//! Every frame is remembered for attribution (interaction spans, INP). A
//! frame blocked long enough becomes a `longAnimationFrame` span from the
//! frame's start to its end: a child of the interaction or route change
//! open when its longest script began (else when it began), else a root; `waggle.loaf.blocking_duration`,
//! the longest script's `waggle.loaf.script.*`, `waggle.loaf.dropped` when
//! the minute's bound left frames out before it; events `renderStart` and
//! `styleAndLayoutStart`, and one `waggle.loaf.script` event per script
//! (at most five, longest first) at the script's start.

use alloc::string::String;

use crate::core::config::inst;
use crate::core::loaf::{Admit, Frame, Script};
use crate::core::span::{kind, Attrs};
use crate::platform::wire::Rec;
use crate::runtime::Runtime;

/// A `long-animation-frame` entry.
pub fn entry(rt: &mut Runtime, r: &mut Rec<'_, '_>) {
    let mut frame = Frame {
        start: r.num(),
        duration: r.num(),
        blocking: r.num(),
        render_start: r.num(),
        style_layout_start: r.num(),
        scripts: Default::default(),
    };
    let mut list = r.arr();
    while list.left() > 0 {
        let mut s = list.arr();
        let url = rt.scrub(s.str());
        frame.scripts.push(Script {
            url,
            function: String::from(s.str()),
            invoker: String::from(s.str()),
            invoker_type: String::from(s.str()),
            start: s.num(),
            duration: s.num(),
            forced_layout: s.num(),
        });
    }
    drop(list);
    let Admit::Span { dropped } = rt.frames.add(frame) else { return };
    if !rt.config.on(inst::LONG_ANIMATION_FRAMES) {
        return;
    }
    let Some(f) = rt.frames.last() else { return };
    // Built while the frame is borrowed: a clone of it costs more wasm
    // than the attributes do.
    let (start, end, blocking) = (f.start, f.end(), f.blocking);
    // The span open when the longest script began is the one it held up:
    // a frame often begins with a task from before the interaction.
    let held_at = f.scripts.first().map_or(start, |s| s.start);
    let marks = [("renderStart", f.render_start), ("styleAndLayoutStart", f.style_layout_start)];
    let mut scripts = alloc::vec::Vec::new();
    for s in &f.scripts {
        let mut a = Attrs::default();
        s.put(&mut a);
        scripts.push((s.start, a));
    }
    let parent = rt.tracker.open_at(rt.ns(held_at));
    let mut span = rt.start_span("longAnimationFrame", kind::INTERNAL, parent.as_ref(), rt.ns(start));
    span.end(rt.ns(end));
    span.set("waggle.loaf.blocking_duration", blocking);
    if dropped > 0 {
        span.set("waggle.loaf.dropped", dropped as i64);
    }
    // The longest script is the first: its keys go on the span too.
    if let Some((_, a)) = scripts.first() {
        span.attrs.append(a);
    }
    for (name, at) in marks {
        if at > 0.0 {
            span.event(name, rt.ns(at), &Attrs::EMPTY);
        }
    }
    for (at, a) in &scripts {
        span.event("waggle.loaf.script", rt.ns(*at), a);
    }
    rt.finish(span);
}
