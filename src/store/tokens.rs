//! API bearer tokens: created by `redress token create`, stored as SHA-256 hashes.

use jiff::Timestamp;
use rand::RngCore;
use redress_core::{Actor, Role};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Store, StoreError, micros};

/// Who a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: i64,
    pub actor: Actor,
}

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn role_from(text: &str) -> Option<Role> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
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
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = format!(
            "rdr_{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
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
        let role: String = row.try_get("role")?;
        let Some(role) = role_from(&role) else {
            return Err(StoreError::Corrupt(format!(
                "unknown role '{role}' on a token"
            )));
        };
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
