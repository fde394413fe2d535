//! The content side's tree: products, categories (a product's tree on the primary mirror, rooted at a top
//! directory) and directories (each in one category, with its ctime, readability and short file list).

use sqlx::AnyConnection;

use crate::bulk::{self, Value};
use crate::{DbError, Flag};

/// A `product` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ProductRow {
    pub id: i64,
    pub name: String,
    pub publiclist: Flag,
}

/// A `category` row with its product's name.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CategoryRow {
    pub id: i64,
    pub name: String,
    pub product_id: i64,
    pub product: String,
    /// The top directory's name (`pub/fedora/linux`; may be empty).
    pub topdir: String,
    pub publiclist: Flag,
    pub admin_only: Flag,
    /// Exclude patterns, one per line.
    pub excludes: String,
}

impl CategoryRow {
    /// The exclude patterns, blank lines dropped.
    pub fn exclude_patterns(&self) -> impl Iterator<Item = &str> {
        self.excludes.lines().map(str::trim).filter(|l| !l.is_empty())
    }
}

/// A `directory` row without its file list.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DirectoryRow {
    pub id: i64,
    pub name: String,
    pub category_id: i64,
}

/// A `directory` row as the scanner compares it with the tree.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ScannedDirectoryRow {
    pub id: i64,
    pub name: String,
    pub ctime: i64,
    pub readable: Flag,
    /// JSON array of `{"name","size","timestamp"}` (the short list).
    pub files: String,
}

/// A directory to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDirectory {
    pub name: String,
    pub category_id: i64,
    pub ctime: i64,
    pub readable: bool,
    pub files: String,
}

/// Every product.
pub async fn products(conn: &mut AnyConnection) -> Result<Vec<ProductRow>, DbError> {
    Ok(sqlx::query_as("SELECT id, name, publiclist FROM product ORDER BY id")
        .fetch_all(conn)
        .await?)
}

/// A product by name.
pub async fn product_by_name(conn: &mut AnyConnection, name: &str) -> Result<Option<ProductRow>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, name, publiclist FROM product WHERE name = $1")
            .bind(name)
            .fetch_optional(conn)
            .await?,
    )
}

const CATEGORY_SELECT: &str = "SELECT c.id, c.name, c.product_id, p.name AS product, c.topdir, c.publiclist, \
     c.admin_only, c.excludes FROM category c JOIN product p ON p.id = c.product_id";

/// Every category.
pub async fn categories(conn: &mut AnyConnection) -> Result<Vec<CategoryRow>, DbError> {
    Ok(sqlx::query_as(&format!("{CATEGORY_SELECT} ORDER BY c.id"))
        .fetch_all(conn)
        .await?)
}

/// A category by name.
pub async fn category_by_name(conn: &mut AnyConnection, name: &str) -> Result<Option<CategoryRow>, DbError> {
    Ok(sqlx::query_as(&format!("{CATEGORY_SELECT} WHERE c.name = $1"))
        .bind(name)
        .fetch_optional(conn)
        .await?)
}

/// Every category's name, in byte order (for "known categories" messages).
pub async fn category_names(conn: &mut AnyConnection) -> Result<Vec<String>, DbError> {
    let mut names: Vec<String> = sqlx::query_scalar("SELECT name FROM category").fetch_all(conn).await?;
    names.sort();
    Ok(names)
}

/// Every directory, by id.
pub async fn directories(conn: &mut AnyConnection) -> Result<Vec<DirectoryRow>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, name, category_id FROM directory ORDER BY id")
            .fetch_all(conn)
            .await?,
    )
}

/// A directory's id by name.
pub async fn directory_id(conn: &mut AnyConnection, name: &str) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar("SELECT id FROM directory WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await?)
}

/// The directories of a category with what the scanner compares.
pub async fn scanned_directories(conn: &mut AnyConnection, category: i64) -> Result<Vec<ScannedDirectoryRow>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, name, ctime, readable, files FROM directory WHERE category_id = $1 ORDER BY id")
            .bind(category)
            .fetch_all(conn)
            .await?,
    )
}

/// The id and name of every directory of a category.
pub async fn directories_of(conn: &mut AnyConnection, category: i64) -> Result<Vec<DirectoryRow>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, name, category_id FROM directory WHERE category_id = $1 ORDER BY id")
            .bind(category)
            .fetch_all(conn)
            .await?,
    )
}

/// Names of directories of *other* categories at or below `topdir` (`""`: everywhere).
pub async fn foreign_directory_names(
    conn: &mut AnyConnection,
    category: i64,
    topdir: &str,
) -> Result<Vec<String>, DbError> {
    let below = if topdir.is_empty() {
        "%".to_owned()
    } else {
        format!("{}/%", like_escape(topdir))
    };
    Ok(sqlx::query_scalar(
        "SELECT name FROM directory WHERE category_id <> $1 AND (name = $2 OR name LIKE $3 ESCAPE '\\')",
    )
    .bind(category)
    .bind(topdir)
    .bind(below)
    .fetch_all(conn)
    .await?)
}

/// `text` with LIKE's wildcards escaped (`\` is the escape character).
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Inserts directories; returns how many.
pub async fn insert_directories(conn: &mut AnyConnection, rows: Vec<NewDirectory>) -> Result<u64, DbError> {
    let rows = rows.into_iter().map(|d| {
        vec![
            Value::from(d.name),
            d.category_id.into(),
            d.ctime.into(),
            d.readable.into(),
            d.files.into(),
        ]
    });
    bulk::insert(
        conn,
        "directory",
        &["name", "category_id", "ctime", "readable", "files"],
        rows,
    )
    .await
}

/// Updates a directory the scanner saw change: ctime and readability, and the file list when `files` is given.
pub async fn update_scanned_directory(
    conn: &mut AnyConnection,
    id: i64,
    ctime: i64,
    readable: bool,
    files: Option<String>,
) -> Result<(), DbError> {
    sqlx::query("UPDATE directory SET ctime = $1, readable = $2, files = COALESCE($3, files) WHERE id = $4")
        .bind(ctime)
        .bind(readable)
        .bind(files)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes a directory (its file details and repositories go with it).
pub async fn delete_directory(conn: &mut AnyConnection, id: i64) -> Result<u64, DbError> {
    Ok(sqlx::query("DELETE FROM directory WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected())
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_are_literal() {
        assert_eq!(super::like_escape("pub/fedora_x/100%"), "pub/fedora\\_x/100\\%");
        assert_eq!(super::like_escape("a\\b"), "a\\\\b");
    }
}
