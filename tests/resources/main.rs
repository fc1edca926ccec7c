//! The resource-server simulator: every verdict row, RFC 6750 answers, profiles, RFC 9728
//! metadata, the admin API (check, calls, profiles), events and the config round trip, against
//! a real server on port 0.

mod common;

mod admin;
mod http;
mod profiles;
mod proxy;
mod verdicts;
