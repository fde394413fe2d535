//! [`Flag`]: a BOOLEAN column read the same on both engines.
//!
//! PostgreSQL returns BOOLEAN; SQLite has no boolean type, and through sqlx's `Any` driver a column declared
//! BOOLEAN arrives as a boolean while an expression over flags (`h.private OR s.private`) arrives as an integer.
//! Row types declare flag columns as `Flag` (or `Option<Flag>`), which accepts both; `bool::from` reads it.

use sqlx::any::{AnyTypeInfo, AnyTypeInfoKind, AnyValueRef};
use sqlx::error::BoxDynError;
use sqlx::{Any, Decode, Type};

/// A flag column's value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flag(pub bool);

impl From<Flag> for bool {
    fn from(f: Flag) -> bool {
        f.0
    }
}

impl Type<Any> for Flag {
    fn type_info() -> AnyTypeInfo {
        <bool as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        matches!(
            ty.kind(),
            AnyTypeInfoKind::Bool | AnyTypeInfoKind::SmallInt | AnyTypeInfoKind::Integer | AnyTypeInfoKind::BigInt
        )
    }
}

impl<'r> Decode<'r, Any> for Flag {
    fn decode(value: AnyValueRef<'r>) -> Result<Flag, BoxDynError> {
        match <bool as Decode<Any>>::decode(value.clone()) {
            Ok(b) => Ok(Flag(b)),
            Err(_) => Ok(Flag(<i64 as Decode<Any>>::decode(value)? != 0)),
        }
    }
}

/// `Option<Flag>` as `Option<bool>`.
pub fn opt(f: Option<Flag>) -> Option<bool> {
    f.map(bool::from)
}
