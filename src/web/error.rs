//! The pages' own errors: what a person is shown when a page cannot be given (an HTML page
//! with the status, a heading and a sentence), kept apart from the API's problem documents.

use crate::store::StoreError;

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    /// The thing asked for was done already, by someone else or before.
    #[error("{0}")]
    Conflict(String),
    #[error("this address does not accept that method")]
    MethodNotAllowed,
    #[error("something went wrong on our side")]
    Internal(#[source] anyhow::Error),
}

impl PageError {
    pub fn status(&self) -> u16 {
        match self {
            PageError::NotFound(_) => 404,
            PageError::Forbidden(_) => 403,
            PageError::BadRequest(_) => 400,
            PageError::Conflict(_) => 409,
            PageError::MethodNotAllowed => 405,
            PageError::Internal(_) => 500,
        }
    }

    /// The sentence shown on the page: never an internal error's cause.
    pub fn detail(&self) -> String {
        match self {
            PageError::Internal(_) => {
                "something went wrong on our side; the request was not completed".to_owned()
            }
            other => other.to_string(),
        }
    }

    pub fn heading(&self) -> &'static str {
        match self {
            PageError::NotFound(_) => "Page not found",
            PageError::Forbidden(_) => "You cannot do that",
            PageError::BadRequest(_) => "Bad Request",
            PageError::Conflict(_) => "Done already",
            PageError::MethodNotAllowed => "Method Not Allowed",
            PageError::Internal(_) => "Something went wrong",
        }
    }
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => PageError::NotFound("no complaint has that reference".into()),
            StoreError::Refused(refusal) => PageError::Forbidden(refusal.reason),
            other => PageError::Internal(anyhow::Error::new(other)),
        }
    }
}
