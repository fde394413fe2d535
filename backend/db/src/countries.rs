//! Country data the operators set: continent overrides, networks forced to a country, embargoed countries.

use sqlx::AnyConnection;

use crate::DbError;

/// A `country_continent_redirect` row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ContinentRow {
    pub country: String,
    pub continent: String,
}

/// A `netblock_country` row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NetblockCountryRow {
    pub netblock: String,
    pub country: String,
}

/// Every continent override (ordered by the engine's collation; callers that need bytes order re-sort).
pub async fn continents(conn: &mut AnyConnection) -> Result<Vec<ContinentRow>, DbError> {
    Ok(
        sqlx::query_as("SELECT country, continent FROM country_continent_redirect ORDER BY country")
            .fetch_all(conn)
            .await?,
    )
}

/// Every network forced to a country.
pub async fn netblock_countries(conn: &mut AnyConnection) -> Result<Vec<NetblockCountryRow>, DbError> {
    Ok(
        sqlx::query_as("SELECT netblock, country FROM netblock_country ORDER BY netblock")
            .fetch_all(conn)
            .await?,
    )
}

/// Every embargoed country code.
pub async fn embargoed(conn: &mut AnyConnection) -> Result<Vec<String>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT country_code FROM embargoed_country ORDER BY country_code")
            .fetch_all(conn)
            .await?,
    )
}
