//! The `latchkey` binary as a user runs it: start-up banner, signals, restart.

mod common;
mod serve;
