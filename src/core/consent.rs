//! Consent: what the agent may keep, send and store in each state, and
//! what a change of state does.
//!
//! - **Pending**: everything is recorded and held in memory (at most
//!   `batch.maxQueueSize` spans of the agent's and as many of the app's,
//!   and a batch more, as the page drops those a batch at a time; past that
//!   the oldest go and are counted in `waggle.dropped_spans`).
//!   Nothing is sent and nothing is written to storage: the session lives
//!   in memory, and what earlier pages left in storage stays there.
//! - **Granted**: what was held goes out, the session is written, and what
//!   earlier pages left is taken out and sent.
//! - **Denied**: the agent stops as `shutdown` stops it, without sending;
//!   what it held is dropped and every key it wrote is removed. A later
//!   grant starts it again from then on, with a new session; the page's
//!   load (`documentLoad`, TTFB, FCP, LCP) belongs to before and is not
//!   sent.
//!
//! `pending` is a starting state only: once granted or denied, a page
//! cannot go back to it (the call is refused with a warning). The page's
//! own choice (`setConsent`) wins over the `consent` option for the rest
//! of the page, across `shutdown` and `init`.

/// A consent state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Not decided: recorded and held in memory, nothing sent or stored.
    Pending,
    /// Recorded, sent and stored.
    Granted,
    /// Nothing recorded, sent or stored.
    Denied,
}

/// What the values may be, for messages.
pub const EXPECTED: &str = "'granted', 'pending' or 'denied'";

const NAMES: [&str; 3] = ["pending", "granted", "denied"];

/// What the debug output says of each state, by [`State::code`].
pub const LOG: [&str; 3] = ["consent pending: held, nothing sent or stored", "consent granted", "consent denied: stopped, storage cleared"];

impl State {
    /// Reads `'granted'`, `'pending'` or `'denied'`.
    ///
    /// ```
    /// use waggle_rum::core::consent::State;
    /// assert_eq!(State::parse("denied"), Some(State::Denied));
    /// assert_eq!(State::parse("Denied"), None);
    /// ```
    pub fn parse(s: &str) -> Option<State> {
        let i = NAMES.iter().position(|n| *n == s)?;
        Some([State::Pending, State::Granted, State::Denied][i])
    }

    /// Whether anything may leave the page or be written to storage.
    pub fn allows(self) -> bool {
        self == State::Granted
    }

    /// The page's number for it: 0 pending, 1 granted, 2 denied.
    pub fn code(self) -> u32 {
        self as u32
    }
}

/// What a change of consent does to a started agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing: the state is the one in force.
    Stay,
    /// Pending to granted: what was held goes out, the session is written,
    /// and what earlier pages left in storage is taken out.
    Release,
    /// To denied: stop without sending, drop what is held, clear storage.
    Stop,
    /// Denied to granted: start again from now, with a new session.
    Restart,
    /// Back to pending after a decision: refused, with a warning.
    Refuse,
}

/// The page's consent: the state in force and the page's own last choice.
///
/// ```
/// use waggle_rum::core::consent::{Consent, State, Step};
/// let mut c = Consent::default();
/// // setConsent before init: noted, and it wins over the option.
/// c.choose(State::Pending);
/// assert_eq!(c.start(State::Granted), State::Pending);
/// assert_eq!(c.change(State::Granted), Step::Release);
/// assert_eq!(c.change(State::Denied), Step::Stop);
/// assert_eq!(c.change(State::Granted), Step::Restart);
/// assert_eq!(c.change(State::Pending), Step::Refuse);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Consent {
    /// The state in force.
    pub state: State,
    chosen: Option<State>,
}

impl Default for Consent {
    fn default() -> Self {
        Consent { state: State::Granted, chosen: None }
    }
}

impl Consent {
    /// `setConsent(to)` before `init`: noted for it.
    pub fn choose(&mut self, to: State) {
        self.chosen = Some(to);
    }

    /// At `init`, with the `consent` option: the state the agent starts in
    /// (the page's own choice, if it made one).
    pub fn start(&mut self, option: State) -> State {
        self.state = self.chosen.unwrap_or(option);
        self.state
    }

    /// `setConsent(to)` once the agent was started: what to do.
    pub fn change(&mut self, to: State) -> Step {
        let step = match (self.state, to) {
            (a, b) if a == b => Step::Stay,
            (_, State::Pending) => return Step::Refuse,
            (_, State::Denied) => Step::Stop,
            (State::Pending, _) => Step::Release,
            _ => Step::Restart,
        };
        self.state = to;
        self.chosen = Some(to);
        step
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::*;

    #[test]
    fn every_transition() {
        let cases = [
            (Pending, Pending, Step::Stay, Pending),
            (Pending, Granted, Step::Release, Granted),
            (Pending, Denied, Step::Stop, Denied),
            (Granted, Granted, Step::Stay, Granted),
            (Granted, Denied, Step::Stop, Denied),
            (Granted, Pending, Step::Refuse, Granted),
            (Denied, Denied, Step::Stay, Denied),
            (Denied, Granted, Step::Restart, Granted),
            (Denied, Pending, Step::Refuse, Denied),
        ];
        for (from, to, step, after) in cases {
            let mut c = Consent::default();
            c.start(from);
            assert_eq!(c.change(to), step, "{from:?} to {to:?}");
            assert_eq!(c.state, after, "{from:?} to {to:?}");
        }
    }

    #[test]
    fn only_granted_sends_or_stores_and_each_state_has_its_name() {
        assert!(Granted.allows() && !Pending.allows() && !Denied.allows());
        for (i, name) in NAMES.iter().enumerate() {
            assert_eq!(State::parse(name).unwrap().code(), i as u32);
            assert!(LOG[i].starts_with(&format!("consent {name}")));
        }
        for bad in ["", "Granted", "yes", "true"] {
            assert_eq!(State::parse(bad), None);
        }
    }

    #[test]
    fn the_page_s_choice_wins_over_the_option_across_inits() {
        let mut c = Consent::default();
        assert_eq!(c.start(Pending), Pending, "the option, when no choice was made");
        assert_eq!(c.change(Granted), Step::Release);
        // shutdown(), then init({ consent: 'pending' }) again: the choice stands.
        assert_eq!(c.start(Pending), Granted);
        // The last of several calls before init.
        let mut c = Consent::default();
        c.choose(Granted);
        c.choose(Denied);
        assert_eq!(c.start(Granted), Denied);
        // A refused change is no choice.
        let mut c = Consent::default();
        c.start(Granted);
        assert_eq!(c.change(Pending), Step::Refuse);
        assert_eq!(c.start(Pending), Pending);
    }
}
