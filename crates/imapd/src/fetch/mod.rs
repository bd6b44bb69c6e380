//! Message rendering for FETCH: ENVELOPE/BODYSTRUCTURE from the cached
//! summary, BODY[section] extraction, and the string forms of the wire.

pub mod binary;
pub mod charset;
pub mod convert;
pub mod section;
pub mod structure;
pub mod wire;
