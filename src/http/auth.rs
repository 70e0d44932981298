//! Bearer-token authentication and the API's role checks.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use redress_core::{Actor, Role};

use super::AppState;
use super::error::ApiError;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: i64,
    pub actor: Actor,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or(ApiError::Unauthorized)?;
        let text = header.to_str().map_err(|_| ApiError::Unauthorized)?;
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        let info = state
            .store
            .authenticate(token)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        Ok(Caller {
            token_id: info.id,
            actor: info.actor,
        })
    }
}

impl Caller {
    /// Staff who may read complaints: handlers, managers and compliance.
    pub fn require_reader(&self) -> Result<(), ApiError> {
        // Who reads complaints is the core's rule (`visibility::reads_complaints`); this only
        // words the refusals.
        if redress_core::visibility::reads_complaints(self.actor.role) {
            return Ok(());
        }
        match self.actor.role {
            Role::Customer => Err(ApiError::Forbidden(
                "customers see their own complaints through the customer portal, not the staff API"
                    .into(),
            )),
            _ => Err(ApiError::Forbidden(
                "administrators manage users and the procedure; they cannot read complaints".into(),
            )),
        }
    }

    /// Staff who may record a new complaint.
    pub fn require_intake(&self) -> Result<(), ApiError> {
        match self.actor.role {
            Role::Handler | Role::TeamManager | Role::CustomerResolutionManager | Role::System => {
                Ok(())
            }
            Role::Compliance => Err(ApiError::Forbidden(
                "compliance staff can read complaints and add notes, but cannot record them".into(),
            )),
            _ => self.require_reader(),
        }
    }
}
