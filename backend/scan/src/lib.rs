//! The database-free core of `mirrorvane scan` (MirrorManager's UMDL, reference §5.1–§5.2): read a primary
//! mirror tree and describe it. Nothing here talks to the database; the caller compares and stores.
//!
//! ```text
//!  source ──────────────────────────▶ Listing ──▶ caller (database side)
//!  disk::scan_disk (walk, ctime skip)   dirs sorted by path,       1. compare each ListedDir.ctime with the
//!  rsync::list_remote / parse_listing   parents first; files,         stored one; create/update Directory,
//!  fullfiletimelist::read / parse       readable, is_repository,      readable, ctime
//!    (+ disk::fill_readable)            is_ostree; skipped entries 2. changed dirs: filelist::short_filelist
//!                                       with reasons               3. every dir: checksums::load_dir →
//!                                                                     FileDetail rows
//!                                                                  4. repository/ostree dirs: detect::guess_repo
//!                                                                     + prefix::PrefixRules::prefix →
//!                                                                     Repository; repomd::repo_file_detail
//!                                                                     for repomd.xml / summary
//!                                                                  5. age::expired_file_details → delete ids
//! ```
//!
//! Paths in a [`Listing`] are relative to the category's top directory (`""` is the top directory itself);
//! the caller prefixes the category topdir name to form Directory names. Every reader tolerates bad input:
//! what cannot be used is either a typed error (the source as a whole is unusable) or a [`Skipped`] entry
//! with a reason (one line, file or directory), so a scan reports problems instead of stopping.

pub mod age;
pub mod checksums;
pub mod detect;
pub mod disk;
pub mod exclude;
pub mod filelist;
pub mod fullfiletimelist;
pub mod listing;
pub mod prefix;
pub mod repomd;
pub mod rsync;
pub mod store;

mod assemble;

pub use exclude::{ExcludeError, Excludes};
pub use listing::{DirFiles, ListedDir, ListedFile, Listing, SkipReason, Skipped};
