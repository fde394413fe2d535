//! Mirrorvane's native HTTP edge server.

pub mod geo;
