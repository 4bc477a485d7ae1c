//! Pure decoders of what engines and host tools print, shared by every
//! resource: tolerant JSON ([`json`]), bytes cut into lines in bounded memory
//! ([`lines`]), and engine timestamps ([`time`]). Nothing here runs anything.

pub mod json;
pub mod lines;
pub mod time;
