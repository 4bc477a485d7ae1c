//! Pure decoders of what engines and host tools print, shared by every
//! resource: tolerant JSON ([`json`]), bytes cut into lines in bounded memory
//! ([`lines`]), engine timestamps ([`time`]) and human-readable sizes
//! ([`units`]). Nothing here runs anything.

pub mod json;
pub mod lines;
pub mod time;
pub mod units;
pub(crate) mod words;
