//! API bearer tokens: created by `redress token create`, stored as SHA-256 hashes.

use jiff::Timestamp;
use redress_core::{Actor, Role};
use sqlx::Row;

use super::people::{random_token, role_from, sha256_hex as hash};
use super::{Store, StoreError, micros};

/// Who a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: i64,
    pub actor: Actor,
}

impl Store {
    /// Creates a token and returns it; only its hash is stored.
    pub async fn create_token(
        &self,
        role: Role,
        department: Option<&str>,
        staff: Option<&str>,
        label: Option<&str>,
        now: Timestamp,
    ) -> Result<String, StoreError> {
        let token = format!("rdr_{}", random_token());
        let mut w = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO api_tokens (token_hash, role, department, staff, label, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(hash(&token))
        .bind(role.as_str())
        .bind(department)
        .bind(staff)
        .bind(label)
        .bind(micros(now))
        .execute(&mut *w.tx)
        .await?;
        w.tx.commit().await?;
        Ok(token)
    }

    /// The holder of a token, if it is known and not revoked.
    pub async fn authenticate(&self, token: &str) -> Result<Option<TokenInfo>, StoreError> {
        if token.len() > 200 {
            return Ok(None);
        }
        let row = sqlx::query("SELECT id, role, department, staff FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
            .bind(hash(token))
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let role = role_from(&row.try_get::<String, _>("role")?)?;
        Ok(Some(TokenInfo {
            id: row.try_get("id")?,
            actor: Actor {
                role,
                department: row.try_get("department")?,
                staff: row.try_get("staff")?,
            },
        }))
    }
}
