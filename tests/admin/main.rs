//! The admin API, the event stream, the guard and the CLI, against a real server on port 0.

mod common;

mod api;
mod cli;
mod config_errors;
mod event_objects;
mod events;
mod guard;
mod openapi;
mod requests;
mod reset;
mod tokens;
