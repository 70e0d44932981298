//! API bearer tokens: created by `redress token create`, stored as SHA-256 hashes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use redress_core::{Actor, Role};
use sqlx::Row;

use super::people::{random_token, role_from, sha256_hex as hash};
use super::{Store, StoreError, from_micros, micros};

/// A token as `redress token list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenListing {
    pub id: i64,
    pub role: String,
    pub department: Option<String>,
    pub staff: Option<String>,
    pub label: Option<String>,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// Who a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: i64,
    pub actor: Actor,
}

/// How long a verified token is believed without asking the database again: a revoked token
/// stops working within this time on every running server.
pub const TOKEN_CACHE_SECONDS: u64 = 10;
const TOKEN_CACHE_MAX: usize = 4_096;

/// Tokens verified recently, by hash (never the token itself), so that a busy client's
/// requests do not each read `api_tokens`. Unknown tokens are never kept.
#[derive(Default)]
pub(crate) struct TokenCache {
    entries: Mutex<HashMap<String, (TokenInfo, Instant)>>,
}

impl TokenCache {
    fn get(&self, hash: &str) -> Option<TokenInfo> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(hash)
            .filter(|(_, at)| at.elapsed() < Duration::from_secs(TOKEN_CACHE_SECONDS))
            .map(|(info, _)| info.clone())
    }

    fn put(&self, hash: String, info: TokenInfo) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= TOKEN_CACHE_MAX {
            let ttl = Duration::from_secs(TOKEN_CACHE_SECONDS);
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= TOKEN_CACHE_MAX {
                entries.clear();
            }
        }
        entries.insert(hash, (info, Instant::now()));
    }

    fn forget(&self, id: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, (info, _)| info.id != id);
    }
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
        self.write_one(
            sqlx::query(
                "INSERT INTO api_tokens (token_hash, role, department, staff, label, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(hash(&token))
            .bind(role.as_str())
            .bind(department.map(str::to_owned))
            .bind(staff.map(str::to_owned))
            .bind(label.map(str::to_owned))
            .bind(micros(now)),
        )
        .await?;
        Ok(token)
    }

    /// The holder of a token, if it is known and not revoked.
    pub async fn authenticate(&self, token: &str) -> Result<Option<TokenInfo>, StoreError> {
        if token.len() > 200 {
            return Ok(None);
        }
        let hashed = hash(token);
        if let Some(info) = self.tokens.get(&hashed) {
            return Ok(Some(info));
        }
        let row = sqlx::query("SELECT id, role, department, staff FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
            .bind(&hashed)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let role = role_from(&row.try_get::<String, _>("role")?)?;
        let info = TokenInfo {
            id: row.try_get("id")?,
            actor: Actor {
                role,
                department: row.try_get("department")?,
                staff: row.try_get("staff")?,
            },
        };
        self.tokens.put(hashed, info.clone());
        Ok(Some(info))
    }

    /// Revokes a token: it stops working at once on this server, and within
    /// [`TOKEN_CACHE_SECONDS`] on others. Returns false if no unrevoked token has that id.
    pub async fn revoke_token(&self, id: i64, now: Timestamp) -> Result<bool, StoreError> {
        let done = self
            .write_one(
                sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                )
                .bind(micros(now))
                .bind(id),
            )
            .await?
            > 0;
        self.tokens.forget(id);
        Ok(done)
    }

    /// Every token's id, holder, label and dates (never the token or its hash), newest first.
    pub async fn list_tokens(&self) -> Result<Vec<TokenListing>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, role, department, staff, label, created_at, revoked_at FROM api_tokens ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let revoked: Option<i64> = row.try_get("revoked_at")?;
                Ok(TokenListing {
                    id: row.try_get("id")?,
                    role: row.try_get("role")?,
                    department: row.try_get("department")?,
                    staff: row.try_get("staff")?,
                    label: row.try_get("label")?,
                    created_at: from_micros(row.try_get("created_at")?)?,
                    revoked_at: revoked.map(from_micros).transpose()?,
                })
            })
            .collect()
    }
}
