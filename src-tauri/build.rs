//! Tauri's build step, plus a guard: the app's version is the `latchkey` crate's.

fn root_version() -> Option<String> {
    let text = std::fs::read_to_string("../Cargo.toml").ok()?;
    let package = text.split("[package]").nth(1)?;
    package.lines().find_map(|l| {
        let v = l.trim().strip_prefix("version")?.trim_start().strip_prefix('=')?;
        Some(v.trim().trim_matches('"').to_string())
    })
}

fn main() {
    println!("cargo:rerun-if-changed=../Cargo.toml");
    let ours = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    match root_version() {
        Some(root) if root == ours => {}
        Some(root) => panic!("src-tauri/Cargo.toml has version {ours}, the latchkey crate {root}: keep them equal"),
        None => panic!("cannot read the latchkey crate's version from ../Cargo.toml"),
    }
    tauri_build::build();
}
