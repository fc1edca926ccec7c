//! Build metadata for `latchkey --version` and `latchkey doctor`: the commit and the target.
//!
//! The commit comes from `LATCHKEY_BUILD_COMMIT` (the release and static build scripts set it
//! from git), else `.cargo_vcs_info.json` (a crate built by `cargo install`), else `dev`. Git is
//! not asked here: a build script that watched the repository would rebuild the whole crate on
//! every commit during development.

fn main() {
    println!("cargo:rerun-if-env-changed=LATCHKEY_BUILD_COMMIT");
    println!("cargo:rerun-if-changed=.cargo_vcs_info.json");
    let commit = std::env::var("LATCHKEY_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .map(|c| c.trim().to_string())
        .or_else(|| {
            let info = std::fs::read_to_string(".cargo_vcs_info.json").ok()?;
            let start = info.find("\"sha1\"")?;
            let rest = &info[start + 6..];
            let quote = rest.find('"')?;
            let sha: String = rest[quote + 1..]
                .chars()
                .take_while(|c| c.is_ascii_hexdigit())
                .take(12)
                .collect();
            (!sha.is_empty()).then_some(sha)
        })
        .unwrap_or_else(|| "dev".into());
    println!("cargo:rustc-env=LATCHKEY_COMMIT={commit}");
    println!(
        "cargo:rustc-env=LATCHKEY_TARGET={}",
        std::env::var("TARGET").unwrap_or_else(|_| "unknown".into())
    );
}
