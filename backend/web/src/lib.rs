//! The backend's web service (`mirrorvane serve`): what edges, private mirrors and mirror admins reach over HTTP.
//!
//! - `GET /snapshot`, `GET /healthz` ([`snapshot`]): the current snapshot for edges to poll, with ETags;
//! - `POST /xmlrpc` and `POST /checkin/json` ([`checkin`]): private mirrors' check-ins, wire-compatible with
//!   MirrorManager's `report_mirror`;
//! - `GET /crawler/<host>.log` ([`crawl_log`]): a host's crawl logs, from the database (any crawler host wrote
//!   them).
//!
//! What it is not: the edge (`mirrorvane-edge` answers dnf; this service is for the mirror network's operators
//! and members).

pub mod accounts;
pub mod api;
pub mod charts;
pub mod checkin;
pub mod crawl_log;
pub mod map;
pub mod metrics;
pub mod propagation;
pub mod public;
pub mod routes;
pub mod server;
pub mod snapshot;
pub mod statistics;
pub mod ui;

pub use accounts::AccountsConfig;
pub use routes::{Config, router};
pub use server::{ServeLimits, serve};
