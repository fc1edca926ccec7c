//! Dynamic client registration (RFC 7591 / RFC 7592) and Client ID Metadata Documents: a real
//! server per test on 127.0.0.1:0, driven over HTTP like a browser and like an MCP client; the
//! metadata documents are served by a second server on 127.0.0.1:0.

#[allow(dead_code, unused_imports)]
#[path = "../oidc/common.rs"]
mod common;
mod documents;
mod mcp;
mod register;
