//! Multi-row `INSERT`s: imports and scans write hundreds of thousands of rows, and one statement per row costs a
//! round trip each on PostgreSQL.

use std::fmt::Write as _;

use super::DbError;

/// A value of a bulk-inserted column.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// BIGINT.
    Int(i64),
    /// TEXT.
    Text(String),
    /// BOOLEAN.
    Bool(bool),
    /// BLOB / BYTEA.
    Bytes(Vec<u8>),
    /// DOUBLE PRECISION / REAL.
    Float(f64),
    /// NULL of an integer column.
    NullInt,
    /// NULL of a text column.
    NullText,
    /// NULL of a boolean column.
    NullBool,
    /// NULL of a DOUBLE PRECISION / REAL column.
    NullFloat,
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Value {
        v.map_or(Value::NullInt, Value::Int)
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Value {
        v.map_or(Value::NullText, Value::Text)
    }
}
impl From<Option<bool>> for Value {
    fn from(v: Option<bool>) -> Value {
        v.map_or(Value::NullBool, Value::Bool)
    }
}

impl From<Option<f64>> for Value {
    fn from(v: Option<f64>) -> Value {
        v.map_or(Value::NullFloat, Value::Float)
    }
}

/// Bound parameters per statement. Far below the engines' limits (SQLite 32766, PostgreSQL 65535) on purpose:
/// SQLite prepares a statement of 30,000 parameters in seconds (superlinear), one of 1,000 in microseconds.
const MAX_PARAMETERS: usize = 1_000;

/// Inserts `rows` into `table` in as few statements as the engines allow; returns the number inserted.
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    columns: &[&str],
    rows: impl IntoIterator<Item = Vec<Value>>,
) -> Result<u64, DbError> {
    insert_with(conn, table, columns, rows, "").await
}

/// [`insert`], skipping rows a unique index already holds (`ON CONFLICT DO NOTHING`, on both engines); returns
/// how many were inserted.
pub async fn insert_new(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    columns: &[&str],
    rows: impl IntoIterator<Item = Vec<Value>>,
) -> Result<u64, DbError> {
    insert_with(conn, table, columns, rows, " ON CONFLICT DO NOTHING").await
}

async fn insert_with(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    columns: &[&str],
    rows: impl IntoIterator<Item = Vec<Value>>,
    tail: &str,
) -> Result<u64, DbError> {
    let per_statement = (MAX_PARAMETERS / columns.len().max(1)).max(1);
    let mut rows = rows.into_iter().peekable();
    let mut inserted = 0;
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Value>> = rows.by_ref().take(per_statement).collect();
        // `$N` placeholders written out by hand: they mean the same on both engines, whereas the `Any` query
        // builder's `?` does not parse on PostgreSQL.
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut n = 0;
        for (r, row) in chunk.iter().enumerate() {
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for c in 0..row.len() {
                n += 1;
                let _ = write!(sql, "{}${n}", if c == 0 { "" } else { ", " });
            }
            sql.push(')');
        }
        sql.push_str(tail);
        let mut q = sqlx::query(&sql);
        for v in chunk.into_iter().flatten() {
            q = match v {
                Value::Int(i) => q.bind(i),
                Value::Text(t) => q.bind(t),
                Value::Bool(x) => q.bind(x),
                Value::Bytes(x) => q.bind(x),
                Value::Float(x) => q.bind(x),
                Value::NullInt => q.bind(None::<i64>),
                Value::NullText => q.bind(None::<String>),
                Value::NullBool => q.bind(None::<bool>),
                Value::NullFloat => q.bind(None::<f64>),
            };
        }
        inserted += q.execute(&mut *conn).await?.rows_affected();
    }
    Ok(inserted)
}
