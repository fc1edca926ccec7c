//! The simulator's runtime state, held by the provider: each resource compiled (its policy
//! resolved, the JWKS cache its simulated API holds) and the recent calls. Plain state: the
//! checks live in the sibling modules, recording a call (which publishes an event) in
//! [`super::ResourceServer::record`].

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::calls;
use super::jwks;
use super::profiles::Policy;
use crate::issuer::Issuer;
use crate::model::Resource;

/// The path under the issuer where resources are served (`{issuer}/resources/{name}`).
pub const RESOURCES_PATH: &str = "/resources";
/// The RFC 9728 §3 well-known segment.
pub const METADATA_SEGMENT: &str = "/.well-known/oauth-protected-resource";

/// The resource identifier (RFC 8707 §2, RFC 9728 §1.2): `{issuer}/resources/{name}`.
pub fn identifier(issuer: &Issuer, name: &str) -> String {
    issuer.url(&format!("{RESOURCES_PATH}/{name}"))
}

/// Where RFC 9728 §3.1 puts the resource's metadata: the well-known segment inserted between
/// the host and the identifier's whole path (so before the issuer's own path too).
pub fn metadata_url(issuer: &Issuer, name: &str) -> String {
    format!(
        "{}{METADATA_SEGMENT}{}{RESOURCES_PATH}/{name}",
        issuer.origin, issuer.path
    )
}

/// Splits a path below the issuer's (`/resources/{name}{rest}`) into the resource name,
/// percent-decoded as a router decodes it (`/resources/%62ooks/1` names `books`, RFC 3986
/// §6.2.2.2), and the rest exactly as sent (`""` or starting with `/`). `None`: not a
/// resource path, or a name that is not UTF-8 once decoded.
pub fn split_resource_path(path: &str) -> Option<(String, &str)> {
    let after = path.strip_prefix(RESOURCES_PATH)?.strip_prefix('/')?;
    let (raw, rest) = match after.find('/') {
        Some(i) => (&after[..i], &after[i..]),
        None => (after, ""),
    };
    let name = percent_encoding::percent_decode_str(raw).decode_utf8().ok()?;
    Some((name.into_owned(), rest))
}

/// A resource ready to answer calls: its policy resolved, its JWKS cache.
pub struct Compiled {
    /// The resource as configured.
    pub resource: Resource,
    /// What it checks.
    pub policy: Policy,
    /// `{issuer}/resources/{name}`.
    pub identifier: String,
    /// The RFC 9728 metadata URL.
    pub metadata_url: String,
    /// The JWKS the API holds.
    pub jwks: jwks::ApiJwks,
}

impl Compiled {
    /// Compiles `r` for `issuer`.
    pub fn new(issuer: &Issuer, r: Resource) -> Compiled {
        Compiled {
            policy: Policy::resolve(&r),
            identifier: identifier(issuer, &r.name),
            metadata_url: metadata_url(issuer, &r.name),
            resource: r,
            jwks: jwks::ApiJwks::default(),
        }
    }
}

/// The runtime side of the simulator, held by the provider: the resources (an in-memory
/// mirror of the store, so a call never waits for the database) and their recent calls.
#[derive(Default)]
pub struct ResourceServer {
    resources: RwLock<Arc<HashMap<String, Arc<Compiled>>>>,
    /// The recent calls.
    pub calls: calls::CallLog,
}

impl ResourceServer {
    /// The resource named `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Compiled>> {
        let map = match self.resources.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        map.get(name).cloned()
    }

    /// Every resource (unordered).
    pub fn all(&self) -> Vec<Arc<Compiled>> {
        let map = match self.resources.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        map.values().cloned().collect()
    }

    /// Replaces the mirror with fresh resources (every simulated API restarts: empty JWKS
    /// caches) and forgets every call (a reset).
    pub fn reset(&self, issuer: &Issuer, all: Vec<Resource>) {
        let map: HashMap<String, Arc<Compiled>> = all
            .into_iter()
            .map(|r| (r.name.clone(), Arc::new(Compiled::new(issuer, r))))
            .collect();
        match self.resources.write() {
            Ok(mut g) => *g = Arc::new(map),
            Err(p) => *p.into_inner() = Arc::new(map),
        }
        self.calls.clear();
    }

    /// Replaces the mirror. A resource whose definition did not change keeps its JWKS cache;
    /// a changed one starts afresh (its simulated API restarts).
    pub fn load(&self, issuer: &Issuer, all: Vec<Resource>) {
        let old = match self.resources.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        let map: HashMap<String, Arc<Compiled>> = all
            .into_iter()
            .map(|r| {
                let kept = old.get(&r.name).filter(|c| c.resource == r).cloned();
                let c = kept.unwrap_or_else(|| Arc::new(Compiled::new(issuer, r)));
                (c.resource.name.clone(), c)
            })
            .collect();
        for name in old.keys().filter(|n| !map.contains_key(*n)) {
            self.calls.forget(name);
        }
        match self.resources.write() {
            Ok(mut g) => *g = Arc::new(map),
            Err(p) => *p.into_inner() = Arc::new(map),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_path_splits_at_its_decoded_name() {
        assert_eq!(
            split_resource_path("/resources/books/a/b"),
            Some(("books".into(), "/a/b"))
        );
        assert_eq!(
            split_resource_path("/resources/%62ooks/a%2Fb"),
            Some(("books".into(), "/a%2Fb"))
        );
        assert_eq!(split_resource_path("/resources/books"), Some(("books".into(), "")));
        assert_eq!(split_resource_path("/resourcesx/books"), None);
        assert_eq!(split_resource_path("/resources/%ff/x"), None);
    }
}
