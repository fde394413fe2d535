//! What dnf names: repositories (`repo=` prefix + arch → a directory), their versions and arches, and repository
//! redirects (aliases).

use sqlx::AnyConnection;

use crate::{DbError, Flag};

/// An `arch` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ArchRow {
    pub id: i64,
    pub name: String,
    pub publiclist: Flag,
    pub primary_arch: Flag,
}

/// A `version` row (the names the scanner matches paths against).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VersionRow {
    pub id: i64,
    pub name: String,
}

/// A repository as the snapshot builder sees it: prefix, arch name, directory.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ServedRepositoryRow {
    pub prefix: String,
    pub arch: String,
    pub directory_id: i64,
    pub disabled: Flag,
}

/// What the scanner needs to know of every repository: which directories have one, which (prefix, arch) pairs
/// are taken, and which wait for their directory to come back.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RepositoryKeyRow {
    pub id: i64,
    pub name: String,
    /// `None` once its directory vanished from the primary.
    pub directory_id: Option<i64>,
    pub prefix: Option<String>,
    pub arch_id: i64,
}

/// A repository with the names the release tools print.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RepositoryPlaceRow {
    pub id: i64,
    pub name: String,
    pub prefix: Option<String>,
    pub category_id: i64,
    pub category: String,
    /// The directory's name (always set: `repository.directory_id` is NOT NULL).
    pub directory: Option<String>,
}

/// A `repository_redirect` row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RedirectRow {
    pub from_repo: String,
    pub to_repo: String,
}

/// A repository to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRepository {
    pub name: String,
    pub prefix: Option<String>,
    pub category_id: i64,
    pub version_id: i64,
    pub arch_id: i64,
    pub directory_id: i64,
}

/// Every arch, by id.
pub async fn arches(conn: &mut AnyConnection) -> Result<Vec<ArchRow>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, name, publiclist, primary_arch FROM arch ORDER BY id")
            .fetch_all(conn)
            .await?,
    )
}

/// A product's versions, by id (MirrorManager's order of trying them against a path).
pub async fn versions_of_product(conn: &mut AnyConnection, product: i64) -> Result<Vec<VersionRow>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, name FROM version WHERE product_id = $1 ORDER BY id")
            .bind(product)
            .fetch_all(conn)
            .await?,
    )
}

/// A version's id by product and name.
pub async fn version_id(conn: &mut AnyConnection, product: i64, name: &str) -> Result<Option<i64>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM version WHERE product_id = $1 AND name = $2")
            .bind(product)
            .bind(name)
            .fetch_optional(conn)
            .await?,
    )
}

/// A version with its product, as `mirrorvane version list` prints it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VersionListRow {
    pub id: i64,
    pub product: String,
    pub name: String,
    pub is_test: Flag,
    /// Whether propagation statistics follow its repositories.
    pub current: Flag,
    pub repositories: i64,
}

/// Every version, by product and id.
pub async fn version_list(conn: &mut AnyConnection) -> Result<Vec<VersionListRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT v.id, p.name AS product, v.name, v.is_test, v.current, \
         (SELECT COUNT(*) FROM repository r WHERE r.version_id = v.id) AS repositories \
         FROM version v JOIN product p ON p.id = v.product_id ORDER BY p.name, v.id",
    )
    .fetch_all(conn)
    .await?)
}

/// Sets whether propagation follows a version (MirrorManager asked PkgDB which versions are current; the flag
/// lives with the version instead).
pub async fn set_current(conn: &mut AnyConnection, version: i64, current: bool) -> Result<(), DbError> {
    sqlx::query("UPDATE version SET current = $1 WHERE id = $2")
        .bind(current)
        .bind(version)
        .execute(conn)
        .await?;
    Ok(())
}

/// Creates a version; returns its id.
pub async fn insert_version(conn: &mut AnyConnection, product: i64, name: &str, is_test: bool) -> Result<i64, DbError> {
    Ok(
        sqlx::query_scalar("INSERT INTO version (product_id, name, is_test) VALUES ($1, $2, $3) RETURNING id")
            .bind(product)
            .bind(name)
            .bind(is_test)
            .fetch_one(conn)
            .await?,
    )
}

/// Every repository with a prefix, by directory (the builder's order).
pub async fn served(conn: &mut AnyConnection) -> Result<Vec<ServedRepositoryRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT r.prefix, a.name AS arch, r.directory_id, r.disabled FROM repository r JOIN arch a ON a.id = r.arch_id \
         WHERE r.prefix IS NOT NULL AND r.prefix <> '' AND r.directory_id IS NOT NULL ORDER BY r.directory_id, r.id",
    )
    .fetch_all(conn)
    .await?)
}

/// Every repository's directory, prefix and arch.
pub async fn keys(conn: &mut AnyConnection) -> Result<Vec<RepositoryKeyRow>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, name, directory_id, prefix, arch_id FROM repository ORDER BY id")
            .fetch_all(conn)
            .await?,
    )
}

/// Points a repository whose directory had vanished at `directory` (it came back, or a release move found it).
pub async fn repoint(conn: &mut AnyConnection, id: i64, directory: i64, name: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE repository SET directory_id = $1, name = $2 WHERE id = $3")
        .bind(directory)
        .bind(name)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Creates a repository.
pub async fn insert(conn: &mut AnyConnection, r: &NewRepository) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO repository (name, prefix, category_id, version_id, arch_id, directory_id) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&r.name)
    .bind(&r.prefix)
    .bind(r.category_id)
    .bind(r.version_id)
    .bind(r.arch_id)
    .bind(r.directory_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Every repository redirect.
pub async fn redirects(conn: &mut AnyConnection) -> Result<Vec<RedirectRow>, DbError> {
    Ok(
        sqlx::query_as("SELECT from_repo, to_repo FROM repository_redirect ORDER BY id")
            .fetch_all(conn)
            .await?,
    )
}

/// A repository of a category with its directory's name (its recorded name when the directory vanished), for
/// `move-devel-to-release`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RepositoryDirectoryRow {
    pub id: i64,
    pub prefix: Option<String>,
    pub directory: String,
}

/// The repositories of a category with their directories' names, by id.
pub async fn of_category(conn: &mut AnyConnection, category: i64) -> Result<Vec<RepositoryDirectoryRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.prefix, COALESCE(d.name, r.name) AS directory FROM repository r \
         LEFT JOIN directory d ON d.id = r.directory_id WHERE r.category_id = $1 ORDER BY r.id",
    )
    .bind(category)
    .fetch_all(conn)
    .await?)
}

/// Whether any repository points at `directory`.
pub async fn directory_has_repository(conn: &mut AnyConnection, directory: i64) -> Result<bool, DbError> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT 1 FROM repository WHERE directory_id = $1")
            .bind(directory)
            .fetch_optional(conn)
            .await?
            .is_some(),
    )
}

const PLACE_SELECT: &str = "SELECT r.id, r.name, r.prefix, r.category_id, c.name AS category, d.name AS directory \
     FROM repository r JOIN category c ON c.id = r.category_id LEFT JOIN directory d ON d.id = r.directory_id";

/// The repositories of a version, by id.
pub async fn places_of_version(conn: &mut AnyConnection, version: i64) -> Result<Vec<RepositoryPlaceRow>, DbError> {
    Ok(
        sqlx::query_as(&format!("{PLACE_SELECT} WHERE r.version_id = $1 ORDER BY r.id"))
            .bind(version)
            .fetch_all(conn)
            .await?,
    )
}

/// The repositories with a prefix (every arch), by id.
pub async fn places_of_prefix(conn: &mut AnyConnection, prefix: &str) -> Result<Vec<RepositoryPlaceRow>, DbError> {
    Ok(
        sqlx::query_as(&format!("{PLACE_SELECT} WHERE r.prefix = $1 ORDER BY r.id"))
            .bind(prefix)
            .fetch_all(conn)
            .await?,
    )
}

/// Points a repository at another directory of its category under a new name and version (a release move).
pub async fn move_to_release(
    conn: &mut AnyConnection,
    id: i64,
    name: &str,
    version: i64,
    directory: i64,
) -> Result<(), DbError> {
    sqlx::query("UPDATE repository SET name = $1, version_id = $2, directory_id = $3 WHERE id = $4")
        .bind(name)
        .bind(version)
        .bind(directory)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Points a repository at a directory of another category (the archive).
pub async fn move_to_category(conn: &mut AnyConnection, id: i64, directory: i64, category: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE repository SET directory_id = $1, category_id = $2 WHERE id = $3")
        .bind(directory)
        .bind(category)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A version as the inventory writes it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VersionDetailRow {
    pub product: String,
    pub name: String,
    pub display_name: Option<String>,
    pub codename: Option<String>,
    pub sortorder: i64,
    pub display: crate::Flag,
    pub current: crate::Flag,
}

/// Every version, by product and id.
pub async fn version_details(conn: &mut AnyConnection) -> Result<Vec<VersionDetailRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT p.name AS product, v.name, v.display_name, v.codename, v.sortorder, v.display, v.current \
         FROM version v JOIN product p ON p.id = v.product_id ORDER BY p.id, v.id",
    )
    .fetch_all(conn)
    .await?)
}

/// The disabled repositories as `prefix/arch`, sorted.
pub async fn disabled(conn: &mut AnyConnection) -> Result<Vec<String>, DbError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT r.prefix, a.name FROM repository r JOIN arch a ON a.id = r.arch_id \
         WHERE r.disabled AND r.prefix IS NOT NULL ORDER BY r.prefix, a.name",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(p, a)| format!("{p}/{a}")).collect())
}
