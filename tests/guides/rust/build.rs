// Writes the ```rust block of docs/guides.md to $OUT_DIR/guide.rs, which
// src/main.rs includes: the service is the guide's code, word for word.
use std::{env, fs, path::Path};

fn main() {
    let guide = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../docs/guides.md");
    println!("cargo:rerun-if-changed={}", guide.display());
    let text = fs::read_to_string(&guide).expect("docs/guides.md");
    let start = text.find("```rust\n").expect("a ```rust block in docs/guides.md") + "```rust\n".len();
    let len = text[start..].find("\n```").expect("the end of the ```rust block");
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("guide.rs");
    fs::write(out, &text[start..start + len + 1]).unwrap();
}
