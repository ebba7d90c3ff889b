//! An element's path up the DOM, as the page reads it once for every
//! selector the agent builds: `[nodeType, name, id, classes, nth, ofType,
//! idIsUnique]` per node from the element up, elements only
//! carrying the last five.

use alloc::string::String;
use alloc::vec::Vec;

use crate::core::selector::{css_selector, Step};
use crate::core::vitals::{selector, SelectorPart};
use crate::platform::wire::Rec;

/// One node of the path.
#[derive(Clone, Debug, Default)]
pub struct Node {
    /// `nodeType`: 1 for elements.
    pub node_type: u32,
    /// `localName` for elements, `nodeName` otherwise.
    pub name: String,
    /// `id`.
    pub id: String,
    /// The `class` attribute.
    pub classes: String,
    /// Its position among siblings of its tag, from 1.
    pub nth: u32,
    /// How many siblings (itself included) share its tag.
    pub of_type: u32,
    /// Whether its `id` names it alone in the document.
    pub unique: bool,
}

/// Reads a path.
pub fn read(r: &mut Rec<'_, '_>) -> Vec<Node> {
    let mut list = r.arr();
    let mut out = Vec::new();
    while list.left() > 0 {
        let mut n = list.arr();
        out.push(Node {
            node_type: n.u32(),
            name: String::from(n.str()),
            id: String::from(n.str()),
            classes: String::from(n.str()),
            nth: n.u32(),
            of_type: n.u32(),
            unique: n.bool(),
        });
    }
    out
}

/// The selector of an interaction's target: unique ids, tags and
/// `:nth-of-type`, no classes and no text.
pub fn interaction_selector(path: &[Node]) -> String {
    let steps: Vec<Step> = path
        .iter()
        .take_while(|n| n.node_type == 1 && n.name != "html")
        .map(|n| Step { tag: n.name.clone(), unique_id: (n.unique && !n.id.is_empty()).then(|| n.id.clone()), nth_of_type: n.nth.max(1), of_type: n.of_type.max(1) })
        .collect();
    css_selector(&steps)
}

/// The selector `web-vitals` reports for a node (LCP element, shift
/// source, INP target), at most 100 characters.
pub fn vitals_selector(path: &[Node]) -> Option<String> {
    // Other nodes (text) are named as web-vitals names them: `TEXT`.
    let names: Vec<String> = path
        .iter()
        .map(|n| if n.node_type == 1 { n.name.to_ascii_lowercase() } else { n.name.trim_start_matches('#').to_ascii_uppercase() })
        .collect();
    let parts: Vec<SelectorPart<'_>> = path
        .iter()
        .zip(&names)
        .take_while(|(n, _)| n.node_type != 9)
        .map(|(n, name)| SelectorPart { name, id: if n.node_type == 1 { &n.id } else { "" }, classes: if n.node_type == 1 { &n.classes } else { "" } })
        .collect();
    let s = selector(&parts, 100);
    (!s.is_empty()).then_some(s)
}
