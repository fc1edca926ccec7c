//! Token-endpoint grants beyond RFC 6749's, one file each, each citing its RFC. The token
//! endpoint (`oauth::token`) parses `grant_type`, authenticates the client once and dispatches
//! here.

pub mod device_code;
pub mod token_exchange;
