//! Mirrorvane's backend: builds the snapshots that edges serve.
//!
//! Today it converts MirrorManager's protobuf mirrorlist cache ([`mm2`]) so Mirrorvane can run next to (or in
//! place of) MirrorManager's mirrorlist server on the data Fedora already produces, and writes snapshot files
//! safely ([`write`]). What it is not: a request handler (that is `mirrorvane-selector`, wrapped by the edge).

pub mod builder;
pub mod commands;
pub mod compare;
pub mod db;
pub mod demo;
pub mod import;
pub mod inventory;
pub mod mm2;
pub mod release;
pub mod scan;
pub mod synthetic;
pub mod write;
