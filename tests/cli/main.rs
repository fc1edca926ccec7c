//! The `latchkey` binary as a user runs it: start-up banner and errors, signals, restart.

mod common;
mod errors;
mod exec;
mod machine;
mod reset;
mod serve;
mod setups;
mod tooling;
