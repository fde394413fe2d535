//! File details: size, time and hashes of the files a metalink describes (`repomd.xml`, checksummed images).
//! Several rows per file are its current and older versions (the metalink's alternates), newest first.

use sqlx::AnyConnection;

use crate::DbError;
use crate::bulk::{self, Value};

/// A `file_detail` row (also what is inserted: `id` is ignored then).
#[derive(Debug, Clone, PartialEq, Eq, Hash, sqlx::FromRow)]
pub struct FileDetailRow {
    pub directory_id: i64,
    pub filename: String,
    pub timestamp: i64,
    pub size: i64,
    pub md5: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub sha512: Option<String>,
}

/// A file detail's identity for ageing: one version of one file.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FileVersionRow {
    pub id: i64,
    pub directory_id: i64,
    pub filename: String,
    pub timestamp: i64,
}

const COLUMNS: &str = "directory_id, filename, timestamp, size, md5, sha1, sha256, sha512";

/// Every file detail, by directory and file, newest first within a file (the builder's order; text sorted by
/// the engine's collation, which the builder re-sorts by bytes).
pub async fn all(conn: &mut AnyConnection) -> Result<Vec<FileDetailRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM file_detail ORDER BY directory_id, filename, timestamp DESC, id DESC"
    ))
    .fetch_all(conn)
    .await?)
}

/// The file details of a category's directories.
pub async fn of_category(conn: &mut AnyConnection, category: i64) -> Result<Vec<FileDetailRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT f.directory_id, f.filename, f.timestamp, f.size, f.md5, f.sha1, f.sha256, f.sha512 \
         FROM file_detail f JOIN directory d ON d.id = f.directory_id WHERE d.category_id = $1",
    )
    .bind(category)
    .fetch_all(conn)
    .await?)
}

/// The file details of one directory.
pub async fn of_directory(conn: &mut AnyConnection, directory: i64) -> Result<Vec<FileDetailRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM file_detail WHERE directory_id = $1 ORDER BY id"
    ))
    .bind(directory)
    .fetch_all(conn)
    .await?)
}

/// The versions of every file of a category's directories, for ageing.
pub async fn versions_of_category(conn: &mut AnyConnection, category: i64) -> Result<Vec<FileVersionRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT f.id, f.directory_id, f.filename, f.timestamp FROM file_detail f \
         JOIN directory d ON d.id = f.directory_id WHERE d.category_id = $1",
    )
    .bind(category)
    .fetch_all(conn)
    .await?)
}

/// Inserts file details; with ids, they are kept (imports). Returns how many.
pub async fn insert(conn: &mut AnyConnection, rows: Vec<(Option<i64>, FileDetailRow)>) -> Result<u64, DbError> {
    let with_ids = rows.iter().any(|(id, _)| id.is_some());
    let mut columns = Vec::with_capacity(9);
    if with_ids {
        columns.push("id");
    }
    columns.extend(COLUMNS.split(", "));
    let rows = rows.into_iter().map(|(id, f)| {
        let mut row: Vec<Value> = Vec::with_capacity(9);
        if with_ids {
            row.push(id.into());
        }
        row.extend([
            f.directory_id.into(),
            f.filename.into(),
            f.timestamp.into(),
            f.size.into(),
            f.md5.into(),
            f.sha1.into(),
            f.sha256.into(),
            f.sha512.into(),
        ]);
        row
    });
    // The unique index on a file's version makes a repeated row a no-op (an import carrying duplicates).
    bulk::insert_new(conn, "file_detail", &columns, rows).await
}

/// Deletes file details by id; returns how many.
pub async fn delete(conn: &mut AnyConnection, ids: &[i64]) -> Result<u64, DbError> {
    let mut deleted = 0;
    for chunk in ids.chunks(500) {
        let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        // Ids are our own integers, so inlining them is safe and saves one bind per row.
        deleted += sqlx::query(&format!("DELETE FROM file_detail WHERE id IN ({list})"))
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(deleted)
}
