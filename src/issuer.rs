//! The issuer: its identifier exactly as configured and the URLs derived from it. A value
//! passed down (design §6: several issuers later), never a global.

/// The issuer identifier and the URLs derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    /// Exactly as configured: the `iss` of every token and discovery's `issuer`.
    pub id: String,
    base: String,
    /// The issuer's path (`""` for `http://localhost:8000`, `"/realms/dev"` for a path issuer).
    pub path: String,
    /// `scheme://host[:port]`.
    pub origin: String,
}

impl Issuer {
    /// Validates an issuer URL (http or https, no query or fragment: OIDC Discovery §3).
    pub fn parse(id: &str) -> Result<Issuer, String> {
        let url = url::Url::parse(id).map_err(|e| format!("issuer `{id}` is not a URL: {e}"))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(format!("issuer `{id}` must use http or https"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!("issuer `{id}` must not have a query or fragment"));
        }
        if url.host_str().is_none() {
            return Err(format!("issuer `{id}` has no host"));
        }
        let base = id.trim_end_matches('/').to_string();
        let path = url.path().trim_end_matches('/').to_string();
        Ok(Issuer {
            id: id.to_string(),
            base,
            path,
            origin: url.origin().ascii_serialization(),
        })
    }

    /// The absolute URL of an endpoint at `path` (a router path constant).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The issuer's host (with port), for the admin guard.
    pub fn host(&self) -> Option<String> {
        let url = url::Url::parse(&self.id).ok()?;
        let host = url.host_str()?;
        Some(match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        })
    }
}
