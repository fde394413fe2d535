//! [`Stats`]: what a snapshot holds, counted (the summary lines of `mirrorvane snapshot`, tests).

use super::Snapshot;

/// Counts of a snapshot, for the summary line and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Hosts.
    pub hosts: usize,
    /// Of which private.
    pub private_hosts: usize,
    /// Categories.
    pub categories: usize,
    /// Host categories.
    pub host_categories: usize,
    /// Host categories without URLs (counted, never listed).
    pub host_categories_without_urls: usize,
    /// Distinct host sets.
    pub host_sets: usize,
    /// Directories.
    pub directories: usize,
    /// Sum over directories of their host set sizes (MirrorManager's up-to-date host × directory pairs).
    pub directory_hosts: usize,
    /// Repositories.
    pub repositories: usize,
    /// Disabled repository prefixes.
    pub disabled_prefixes: usize,
    /// Repository redirects.
    pub repository_redirects: usize,
    /// Files with metalink details.
    pub files: usize,
    /// File details over all files.
    pub file_details: usize,
    /// Host netblocks (after merging equal networks).
    pub host_netblocks: usize,
    /// Netblock → country entries.
    pub netblock_countries: usize,
    /// Continent overrides.
    pub continent_overrides: usize,
}

impl Stats {
    /// Counts `s`.
    pub fn of(s: &Snapshot) -> Stats {
        Stats {
            hosts: s.hosts.len(),
            private_hosts: s.hosts.iter().filter(|h| h.private).count(),
            categories: s.categories.len(),
            host_categories: s.host_categories.len(),
            host_categories_without_urls: s.host_categories.iter().filter(|hc| hc.urls.is_empty()).count(),
            host_sets: s.host_sets.len(),
            directories: s.directories.len(),
            directory_hosts: s
                .directories
                .iter()
                .map(|d| s.host_sets.get(d.hosts.index()).map_or(0, |set| set.members().len()))
                .sum(),
            repositories: s.repositories.len(),
            disabled_prefixes: s.disabled_prefixes.len(),
            repository_redirects: s.repository_redirects.len(),
            files: s.files.len(),
            file_details: s.files.iter().map(|f| f.details.len()).sum(),
            host_netblocks: s.host_netblocks.len(),
            netblock_countries: s.netblock_countries.len(),
            continent_overrides: s.continent_overrides.len(),
        }
    }
}
