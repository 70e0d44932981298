//! The signing key that seals the ledger (`redress keys create`), kept outside the database.
//!
//! Anyone who can write to the database can rewrite events and recompute every hash, so the
//! record is only as trustworthy as something the database does not hold. That is an Ed25519
//! key in a file (`--signing-key FILE` / `REDRESS_SIGNING_KEY_FILE`) or in the environment
//! (`REDRESS_SIGNING_KEY`): `serve` and `audit anchor` sign each ledger block with it, and
//! `audit verify` checks the signatures with it or with its public key alone
//! (`--public-key`), which can be handed to whoever audits without letting them sign.
//!
//! The secret never reaches a log or an error message: `Debug` shows only the key's id, and a
//! key that cannot be read is described by where it came from, never by its contents.

use std::fmt;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// How a secret key is written: this prefix, then the 32-byte seed in base64.
const SECRET_PREFIX: &str = "redress-signing-key-ed25519:";
/// How a public key is written: this prefix, then its 32 bytes in base64.
const PUBLIC_PREFIX: &str = "redress-public-key-ed25519:";
/// The environment variable that may hold the secret key itself.
pub const KEY_ENV: &str = "REDRESS_SIGNING_KEY";
/// A key file is a line; anything much longer is not one.
const MAX_KEY_FILE_BYTES: u64 = 4096;

/// Why a key could not be had. Never carries the key's text.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{0} already exists: a signing key is never overwritten (choose another path)")]
    Exists(String),
    #[error("cannot write the key to {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read the signing key from {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} does not hold a signing key made by `redress keys create`")]
    NotASecretKey(String),
    #[error("{0} is not a public key printed by `redress keys create`")]
    NotAPublicKey(String),
    #[error(
        "the signing key is given twice: use either --signing-key (REDRESS_SIGNING_KEY_FILE) or REDRESS_SIGNING_KEY"
    )]
    Twice,
}

/// The secret key that signs ledger blocks.
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
    id: String,
}

/// The public half: checks signatures, cannot make them.
#[derive(Clone)]
pub struct PublicKey {
    key: ed25519_dalek::VerifyingKey,
    id: String,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({})", self.id)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.id)
    }
}

/// A key's id: the first 8 bytes of the SHA-256 of its public key, as hex. Stored beside each
/// signature so that a block signed by another key says so rather than merely failing.
fn key_id(public: &ed25519_dalek::VerifyingKey) -> String {
    Sha256::digest(public.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The bytes signed for a block: its hash, under a label so that a signature over anything
/// else (another use of the same key) can never pass for a block's.
fn block_message(hash: &str) -> Vec<u8> {
    format!("redress ledger block\u{1f}{hash}").into_bytes()
}

impl SigningKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> SigningKey {
        let mut seed = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(seed.as_mut());
        SigningKey::from_seed(&seed)
    }

    fn from_seed(seed: &[u8; 32]) -> SigningKey {
        let key = ed25519_dalek::SigningKey::from_bytes(seed);
        let id = key_id(&key.verifying_key());
        SigningKey { key, id }
    }

    /// Reads the text `to_text` writes; `origin` names where it came from, for the error.
    pub fn parse(text: &str, origin: &str) -> Result<SigningKey, KeyError> {
        let bad = || KeyError::NotASecretKey(origin.to_owned());
        let encoded = text.trim().strip_prefix(SECRET_PREFIX).ok_or_else(bad)?;
        let bytes = Zeroizing::new(STANDARD.decode(encoded).map_err(|_| bad())?);
        let seed: Zeroizing<[u8; 32]> =
            Zeroizing::new(bytes.as_slice().try_into().map_err(|_| bad())?);
        Ok(SigningKey::from_seed(&seed))
    }

    /// The key as one line of text, for a file or an environment variable. Secret.
    pub fn to_text(&self) -> Zeroizing<String> {
        let seed = Zeroizing::new(self.key.to_bytes());
        Zeroizing::new(format!("{SECRET_PREFIX}{}", STANDARD.encode(seed.as_ref())))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            key: self.key.verifying_key(),
            id: self.id.clone(),
        }
    }

    /// The signature of a block whose hash is `hash`, in base64.
    pub fn sign_block(&self, hash: &str) -> String {
        STANDARD.encode(self.key.sign(&block_message(hash)).to_bytes())
    }

    /// Writes a new key to `path`: never over an existing file, readable by its owner alone.
    pub fn write_new(&self, path: &Path) -> Result<(), KeyError> {
        let shown = path.display().to_string();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                KeyError::Exists(shown.clone())
            } else {
                KeyError::Write {
                    path: shown.clone(),
                    source,
                }
            }
        })?;
        let mut line = self.to_text();
        line.push('\n');
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|source| KeyError::Write {
                path: shown,
                source,
            })
    }

    /// The key from a file or from `REDRESS_SIGNING_KEY` (`env_text`), if either is given.
    pub fn load(
        file: Option<&Path>,
        env_text: Option<&str>,
    ) -> Result<Option<SigningKey>, KeyError> {
        let env_text = env_text.filter(|t| !t.trim().is_empty());
        match (file, env_text) {
            (Some(_), Some(_)) => Err(KeyError::Twice),
            (None, Some(text)) => SigningKey::parse(text, KEY_ENV).map(Some),
            (None, None) => Ok(None),
            (Some(path), None) => {
                let shown = path.display().to_string();
                let read = |source| KeyError::Read {
                    path: shown.clone(),
                    source,
                };
                let size = std::fs::metadata(path).map_err(read)?.len();
                if size > MAX_KEY_FILE_BYTES {
                    return Err(KeyError::NotASecretKey(shown));
                }
                let text = Zeroizing::new(std::fs::read_to_string(path).map_err(read)?);
                SigningKey::parse(&text, &shown).map(Some)
            }
        }
    }
}

impl PublicKey {
    /// Reads the text `to_text` writes; `origin` names where it came from, for the error.
    pub fn parse(text: &str, origin: &str) -> Result<PublicKey, KeyError> {
        let bad = || KeyError::NotAPublicKey(origin.to_owned());
        let encoded = text.trim().strip_prefix(PUBLIC_PREFIX).ok_or_else(bad)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| bad())?;
        let bytes: [u8; 32] = bytes.as_slice().try_into().map_err(|_| bad())?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| bad())?;
        let id = key_id(&key);
        Ok(PublicKey { key, id })
    }

    /// A public key given as its text, or as the path of a file holding it.
    pub fn from_argument(argument: &str) -> Result<PublicKey, KeyError> {
        if argument.trim().starts_with(PUBLIC_PREFIX) {
            return PublicKey::parse(argument, "--public-key");
        }
        let path = Path::new(argument);
        let read = |source| KeyError::Read {
            path: argument.to_owned(),
            source,
        };
        if std::fs::metadata(path).map_err(read)?.len() > MAX_KEY_FILE_BYTES {
            return Err(KeyError::NotAPublicKey(argument.to_owned()));
        }
        PublicKey::parse(&std::fs::read_to_string(path).map_err(read)?, argument)
    }

    pub fn to_text(&self) -> String {
        format!("{PUBLIC_PREFIX}{}", STANDARD.encode(self.key.as_bytes()))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether `signature` (base64) is this key's signature of the block hash `hash`.
    pub fn verifies_block(&self, hash: &str, signature: &str) -> bool {
        let Ok(bytes) = STANDARD.decode(signature.trim()) else {
            return false;
        };
        let Ok(bytes) = <[u8; 64]>::try_from(bytes.as_slice()) else {
            return false;
        };
        let signature = ed25519_dalek::Signature::from_bytes(&bytes);
        // Strict: also refuses weak keys and malleable signatures.
        self.key
            .verify_strict(&block_message(hash), &signature)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_survives_its_text_and_signs_what_its_public_key_checks() {
        let key = SigningKey::generate();
        let again = SigningKey::parse(&key.to_text(), "test").expect("parses");
        assert_eq!(again.id(), key.id());
        let signature = key.sign_block("abc");
        let public = PublicKey::parse(&key.public().to_text(), "test").expect("parses");
        assert!(public.verifies_block("abc", &signature));
        assert!(!public.verifies_block("abd", &signature));
        assert!(
            !SigningKey::generate()
                .public()
                .verifies_block("abc", &signature)
        );
        assert!(!public.verifies_block("abc", "not base64!"));
    }

    #[test]
    fn the_secret_never_shows_in_debug_or_errors() {
        let key = SigningKey::generate();
        let text = key.to_text();
        let secret = text.strip_prefix(SECRET_PREFIX).expect("prefixed");
        assert!(!format!("{key:?}").contains(secret));
        let broken = format!("{}x", text.as_str());
        let error = SigningKey::parse(&broken, "REDRESS_SIGNING_KEY").expect_err("refused");
        assert!(!error.to_string().contains(secret), "{error}");
        assert!(error.to_string().contains("REDRESS_SIGNING_KEY"));
    }

    #[test]
    fn a_public_key_is_not_taken_for_a_secret_one() {
        let key = SigningKey::generate();
        assert!(SigningKey::parse(&key.public().to_text(), "x").is_err());
        assert!(PublicKey::parse(&key.to_text(), "x").is_err());
        assert!(matches!(
            SigningKey::load(Some(Path::new("/nonexistent")), Some("y")),
            Err(KeyError::Twice)
        ));
    }
}
