//! Black-box integration tests of the protocol core (issue 2): a real listener on
//! `127.0.0.1:0`, a temporary database, and plain HTTP clients.

mod assertions;
mod backchannel;
mod client_credentials;
mod client_jwt_auth;
mod common;
mod config_file;
mod device_flow;
mod discovery_jwks;
mod dpop;
mod http_errors;
mod independent_verify;
mod introspection;
mod jwt_bearer;
mod revocation;
mod testing;
mod tls;
mod token_exchange;
