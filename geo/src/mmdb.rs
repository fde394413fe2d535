//! What the MaxMind DB readers share: telling an mmdb from text, and opening one with typed errors.

use std::path::Path;

use maxminddb::Reader;

use crate::GeoError;

/// The MaxMind DB metadata marker. The spec puts it in the last 128 KiB of the file.
const METADATA_MARKER: &[u8] = b"\xab\xcd\xefMaxMind.com";
const METADATA_MAX: usize = 128 * 1024;

/// Label used in errors for databases handed over as bytes.
pub(crate) const MEMORY: &str = "<memory>";

/// True when `bytes` carries the MaxMind DB metadata marker where the spec puts it (its last 128 KiB).
///
/// This is how a path given for "ASN data" is told apart: an mmdb, or else a `global_netblocks.txt`.
pub fn is_mmdb(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(METADATA_MAX)..];
    memchr::memmem::rfind(tail, METADATA_MARKER).is_some()
}

/// Reads a whole file, naming it in the error.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, GeoError> {
    std::fs::read(path).map_err(|error| GeoError::Io {
        source_name: path.display().to_string(),
        error,
    })
}

/// Opens `bytes` as a MaxMind DB, telling "not an mmdb" apart from "broken mmdb".
pub(crate) fn open_reader(bytes: Vec<u8>, source_name: &str) -> Result<Reader<Vec<u8>>, GeoError> {
    if !is_mmdb(&bytes) {
        return Err(GeoError::NotMaxMindDb {
            source_name: source_name.to_owned(),
        });
    }
    Reader::from_source(bytes).map_err(|error| GeoError::CorruptMaxMindDb {
        source_name: source_name.to_owned(),
        error,
    })
}

/// How many records with data schema detection looks at before giving up. Real databases put data in nearly
/// every record, so the first decisive one comes at once; the cap bounds the work on odd files.
pub(crate) const PROBE_RECORDS: usize = 256;

/// Feeds up to [`PROBE_RECORDS`] records with data to `decide` until it returns `Some`.
///
/// A record that does not decode as `T` is skipped: detection only needs one good one.
pub(crate) fn probe<'de, T, R>(
    reader: &'de Reader<Vec<u8>>,
    source_name: &str,
    mut decide: impl FnMut(T) -> Option<R>,
) -> Result<Option<R>, GeoError>
where
    T: serde::Deserialize<'de>,
{
    let corrupt = |error| GeoError::CorruptMaxMindDb {
        source_name: source_name.to_owned(),
        error,
    };
    let networks = reader.networks(Default::default()).map_err(corrupt)?;
    for item in networks.take(PROBE_RECORDS) {
        let found = item.map_err(corrupt)?;
        if let Ok(Some(record)) = found.decode::<T>()
            && let Some(verdict) = decide(record)
        {
            return Ok(Some(verdict));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_detection() {
        assert!(!is_mmdb(b""));
        assert!(!is_mmdb(b"10.0.0.0/8 64512\n"));
        let mut v = vec![0u8; 10];
        v.extend_from_slice(METADATA_MARKER);
        v.extend_from_slice(&[0u8; 20]);
        assert!(is_mmdb(&v));
        // A marker further than 128 KiB from the end is not metadata.
        v.extend(std::iter::repeat_n(0u8, METADATA_MAX));
        assert!(!is_mmdb(&v));
    }

    #[test]
    fn open_reader_errors() {
        assert!(matches!(
            open_reader(Vec::new(), MEMORY),
            Err(GeoError::NotMaxMindDb { .. })
        ));
        let mut v = METADATA_MARKER.to_vec();
        v.extend_from_slice(b"garbage");
        assert!(matches!(open_reader(v, MEMORY), Err(GeoError::CorruptMaxMindDb { .. })));
    }
}
