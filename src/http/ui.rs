//! The admin UI (design §3.4): the built `ui/dist` single-page app, served at `/admin/`.
//!
//! Release builds embed the files; debug builds read them from `ui/dist` at run time
//! (rust-embed's behaviour), so `npm --prefix ui run build` is enough to see a change. Unknown
//! paths under `/admin/` fall back to `index.html` so client-side routes survive a reload;
//! `/admin/api/*` never does (an unknown API path stays a JSON 404). The guard middleware in
//! [`super::router_with`] covers these routes like the API.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

use super::error::http_error;

/// The built UI (`npm --prefix ui run build` writes it).
#[derive(RustEmbed)]
#[folder = "ui/dist"]
#[allow_missing = true]
struct Assets;

/// Shown when `ui/dist` was not built.
const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Latchkey: the UI is not built</title><style>body{font:16px/1.5 system-ui,sans-serif;\
max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#f1f1f4;padding:2px 6px;\
border-radius:4px}</style></head><body><h1>The UI is not built</h1><p>The server is running and \
the admin API answers at <code>/admin/api/</code>, but this binary has no UI files. Build them, \
then rebuild or restart:</p><p><code>npm --prefix ui ci &amp;&amp; npm --prefix ui run build</code></p>\
</body></html>";

/// The UI routes, under the issuer's path.
pub fn routes(issuer_path: &str) -> Router {
    let base = format!("{issuer_path}/admin");
    let slash = format!("{base}/");
    Router::new()
        .route(&base, get(move || async move { Redirect::permanent(&slash) }))
        .route(&format!("{base}/"), {
            let prefix = issuer_path.to_string();
            get(move || async move { serve("", &prefix) })
        })
        .route(&format!("{base}/{{*path}}"), {
            let prefix = issuer_path.to_string();
            get(move |Path(p): Path<String>| async move { serve(&p, &prefix) })
        })
}

/// Whether a file name carries a content hash (Vite's `assets/name-HASH.ext`).
fn is_hashed(path: &str) -> bool {
    path.starts_with("assets/")
}

/// The app shell. Vite builds it for `/admin/`; under an issuer with a path
/// (`http://localhost:8000/realms/dev`) its asset URLs are moved under that path.
fn index_html(data: &[u8], prefix: &str) -> Vec<u8> {
    if prefix.is_empty() {
        return data.to_vec();
    }
    String::from_utf8_lossy(data)
        .replace("\"/admin/", &format!("\"{prefix}/admin/"))
        .into_bytes()
}

fn serve(path: &str, prefix: &str) -> Response {
    if path == "api" || path.starts_with("api/") {
        return http_error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no admin API endpoint at /admin/{path}; see /admin/api/openapi.json"),
        );
    }
    if let Some(file) = Assets::get(path).filter(|_| !path.is_empty()) {
        let cache = if is_hashed(path) {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        let mime = file.metadata.mimetype();
        let ct = HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream"));
        return (
            [
                (header::CONTENT_TYPE, ct),
                (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            ],
            file.data.into_owned(),
        )
            .into_response();
    }
    // A missing hashed asset is a real 404 (an old tab after a rebuild), not the app shell.
    if is_hashed(path) {
        return http_error(StatusCode::NOT_FOUND, "not_found", format!("no UI file /admin/{path}"));
    }
    match Assets::get("index.html") {
        Some(index) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            index_html(&index.data, prefix),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            NOT_BUILT,
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_issuer_moves_the_shell_asset_urls() {
        let html = br#"<script src="/admin/assets/a.js"></script><link href="/admin/assets/b.css">"#;
        let out = String::from_utf8(index_html(html, "/realms/dev")).unwrap();
        assert_eq!(
            out,
            r#"<script src="/realms/dev/admin/assets/a.js"></script><link href="/realms/dev/admin/assets/b.css">"#
        );
        assert_eq!(index_html(html, ""), html.to_vec());
    }

    #[test]
    fn api_paths_never_fall_back_to_the_app() {
        assert_eq!(serve("api/nope", "").status(), StatusCode::NOT_FOUND);
        assert_eq!(serve("api", "").status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn client_routes_get_the_app_or_the_not_built_page() {
        let r = serve("tokens/abc", "");
        assert!(r.status() == StatusCode::OK || r.status() == StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-cache");
        assert!(
            r.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap_or("")
                .starts_with("text/html")
        );
    }

    #[test]
    fn missing_hashed_assets_are_404() {
        assert_eq!(serve("assets/gone-123.js", "").status(), StatusCode::NOT_FOUND);
    }
}
