//! MirrorManager's cache format as Rust types: a hand-written mirror of `proto/mirrormanager.proto`.
//!
//! Written by hand (prost derives) rather than generated so that building needs no `protoc`. Field names,
//! numbers, types and labels follow the `.proto` exactly: proto2 `required` is a plain field, `optional` an
//! `Option`, and repeated scalars are *unpacked* (`packed = "false"`), which is what proto2 writers such as
//! MirrorManager's generator produce. `tests/fedora_scale.rs` re-encodes a real cache and expects the same bytes.
//!
//! prost does not enforce `required` on decoding: a missing required field reads as its default.

/// Details of one version of a file (metalink size, timestamp, hashes).
#[derive(Clone, PartialEq, prost::Message)]
pub struct FileDetailsType {
    /// `required uint64 TimeStamp = 1`.
    #[prost(uint64, required, tag = "1")]
    pub time_stamp: u64,
    /// `required uint64 Size = 2`.
    #[prost(uint64, required, tag = "2")]
    pub size: u64,
    /// `optional string SHA1 = 3`.
    #[prost(string, optional, tag = "3")]
    pub sha1: Option<String>,
    /// `optional string MD5 = 4`.
    #[prost(string, optional, tag = "4")]
    pub md5: Option<String>,
    /// `optional string SHA256 = 5`.
    #[prost(string, optional, tag = "5")]
    pub sha256: Option<String>,
    /// `optional string SHA512 = 6`.
    #[prost(string, optional, tag = "6")]
    pub sha512: Option<String>,
}

/// One file of a directory with its versions, newest first.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FileDetailsCacheFilesType {
    /// `required string filename = 1`.
    #[prost(string, required, tag = "1")]
    pub filename: String,
    /// `repeated FileDetailsType FileDetails = 2`.
    #[prost(message, repeated, tag = "2")]
    pub file_details: Vec<FileDetailsType>,
}

/// The files of one directory that have details.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FileDetailsCacheDirectoryType {
    /// `required string directory = 1`.
    #[prost(string, required, tag = "1")]
    pub directory: String,
    /// `repeated FileDetailsCacheFilesType FileDetailsCacheFiles = 2`.
    #[prost(message, repeated, tag = "2")]
    pub file_details_cache_files: Vec<FileDetailsCacheFilesType>,
}

/// Map entry `string → string`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StringStringMap {
    /// `required string key = 1`.
    #[prost(string, required, tag = "1")]
    pub key: String,
    /// `required string value = 2`.
    #[prost(string, required, tag = "2")]
    pub value: String,
}

/// Map entry `string → [int64]`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StringRepeatedIntMap {
    /// `required string key = 1`.
    #[prost(string, required, tag = "1")]
    pub key: String,
    /// `repeated int64 value = 2`.
    #[prost(int64, repeated, packed = "false", tag = "2")]
    pub value: Vec<i64>,
}

/// Map entry `int64 → [string]`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct IntRepeatedStringMap {
    /// `required int64 key = 1`.
    #[prost(int64, required, tag = "1")]
    pub key: i64,
    /// `repeated string value = 2`.
    #[prost(string, repeated, tag = "2")]
    pub value: Vec<String>,
}

/// Map entry `int64 → string`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct IntStringMap {
    /// `required int64 key = 1`.
    #[prost(int64, required, tag = "1")]
    pub key: i64,
    /// `required string value = 2`.
    #[prost(string, required, tag = "2")]
    pub value: String,
}

/// Map entry `int64 → int64`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct IntIntMap {
    /// `required int64 key = 1`.
    #[prost(int64, required, tag = "1")]
    pub key: i64,
    /// `required int64 value = 2`.
    #[prost(int64, required, tag = "2")]
    pub value: i64,
}

/// Map entry `int64 → [int64]`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct IntRepeatedIntMap {
    /// `required int64 key = 1`.
    #[prost(int64, required, tag = "1")]
    pub key: i64,
    /// `repeated int64 value = 2`.
    #[prost(int64, repeated, packed = "false", tag = "2")]
    pub value: Vec<i64>,
}

/// Map entry `string → bool`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StringBoolMap {
    /// `required string key = 1`.
    #[prost(string, required, tag = "1")]
    pub key: String,
    /// `required bool value = 2`.
    #[prost(bool, required, tag = "2")]
    pub value: bool,
}

/// Who carries one directory: every eligible host with its URLs, and the public ones by country.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MirrorListCacheType {
    /// `required string directory = 1`.
    #[prost(string, required, tag = "1")]
    pub directory: String,
    /// `repeated int64 Global = 2`: public hosts.
    #[prost(int64, repeated, packed = "false", tag = "2")]
    pub global: Vec<i64>,
    /// `optional string Subpath = 3`: the directory below its category's top directory.
    #[prost(string, optional, tag = "3")]
    pub subpath: Option<String>,
    /// `repeated StringRepeatedIntMap ByCountry = 4`: public hosts by country.
    #[prost(message, repeated, tag = "4")]
    pub by_country: Vec<StringRepeatedIntMap>,
    /// `repeated StringRepeatedIntMap ByCountryInternet2 = 5` (unused by the Rust server).
    #[prost(message, repeated, tag = "5")]
    pub by_country_internet2: Vec<StringRepeatedIntMap>,
    /// `repeated IntRepeatedIntMap ByHostId = 6`: host → hcurl ids, private hosts included.
    #[prost(message, repeated, tag = "6")]
    pub by_host_id: Vec<IntRepeatedIntMap>,
    /// `optional bool OrderedMirrorList = 7` (never set by the Rust generator).
    #[prost(bool, optional, tag = "7")]
    pub ordered_mirror_list: Option<bool>,
}

/// The whole cache (`mirrorlist_cache.proto`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct MirrorList {
    /// `optional uint64 Time = 1`: creation time, Unix seconds.
    #[prost(uint64, optional, tag = "1")]
    pub time: Option<u64>,
    /// `repeated StringStringMap NetblockCountryCache = 2`: CIDR → country.
    #[prost(message, repeated, tag = "2")]
    pub netblock_country_cache: Vec<StringStringMap>,
    /// `repeated StringRepeatedIntMap LocationCache = 3` (unused).
    #[prost(message, repeated, tag = "3")]
    pub location_cache: Vec<StringRepeatedIntMap>,
    /// `repeated IntStringMap HCUrlCache = 4`: hcurl id → URL.
    #[prost(message, repeated, tag = "4")]
    pub hc_url_cache: Vec<IntStringMap>,
    /// `repeated FileDetailsCacheDirectoryType FileDetailsCache = 5`.
    #[prost(message, repeated, tag = "5")]
    pub file_details_cache: Vec<FileDetailsCacheDirectoryType>,
    /// `repeated StringBoolMap DisabledRepositoryCache = 6`: prefix → disabled.
    #[prost(message, repeated, tag = "6")]
    pub disabled_repository_cache: Vec<StringBoolMap>,
    /// `repeated StringStringMap CountryContinentRedirectCache = 7`: country → continent.
    #[prost(message, repeated, tag = "7")]
    pub country_continent_redirect_cache: Vec<StringStringMap>,
    /// `repeated StringStringMap RepositoryRedirectCache = 8`: repo alias → prefix.
    #[prost(message, repeated, tag = "8")]
    pub repository_redirect_cache: Vec<StringStringMap>,
    /// `repeated StringStringMap RepoArchToDirectoryName = 9`: `"prefix+arch"` → directory.
    #[prost(message, repeated, tag = "9")]
    pub repo_arch_to_directory_name: Vec<StringStringMap>,
    /// `repeated IntRepeatedIntMap HostAsnCache = 10`: ASN → hosts.
    #[prost(message, repeated, tag = "10")]
    pub host_asn_cache: Vec<IntRepeatedIntMap>,
    /// `repeated IntIntMap HostMaxConnectionCache = 11` (unused).
    #[prost(message, repeated, tag = "11")]
    pub host_max_connection_cache: Vec<IntIntMap>,
    /// `repeated IntStringMap HostCountryCache = 12`: host → country.
    #[prost(message, repeated, tag = "12")]
    pub host_country_cache: Vec<IntStringMap>,
    /// `repeated IntIntMap HostBandwidthCache = 13`: host → bandwidth weight.
    #[prost(message, repeated, tag = "13")]
    pub host_bandwidth_cache: Vec<IntIntMap>,
    /// `repeated IntRepeatedStringMap HostCountryAllowedCache = 14`: host → allowed client countries.
    #[prost(message, repeated, tag = "14")]
    pub host_country_allowed_cache: Vec<IntRepeatedStringMap>,
    /// `repeated StringRepeatedIntMap HostNetblockCache = 15`: CIDR → hosts.
    #[prost(message, repeated, tag = "15")]
    pub host_netblock_cache: Vec<StringRepeatedIntMap>,
    /// `repeated MirrorListCacheType MirrorListCache = 16`: one entry per directory.
    #[prost(message, repeated, tag = "16")]
    pub mirror_list_cache: Vec<MirrorListCacheType>,
}
