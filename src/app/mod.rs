//! Apps: compose files deployed, updated (with rollback) and removed.
pub mod file;
pub mod interpolate;
pub mod merge;
pub mod project;
pub mod yaml;
