//! Typed reading of JSON from outside (scenario steps, API bodies): names the field at fault,
//! and lists fields that were given but not used.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Why a JSON value could not be read as the expected type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field at fault (`customer.account`), when it can be named.
    pub field: Option<String>,
    pub message: String,
}

/// A value read, with the paths of fields that were present but not used.
pub struct Read<T> {
    pub value: T,
    pub unused: Vec<String>,
}

fn attempt<T: DeserializeOwned>(value: Value) -> Result<Read<T>, FieldError> {
    let mut unused = Vec::new();
    let result = {
        let mut note = |path: serde_ignored::Path<'_>| unused.push(path.to_string());
        let de = serde_ignored::Deserializer::new(value, &mut note);
        serde_path_to_error::deserialize::<_, T>(de)
    };
    match result {
        Ok(value) => Ok(Read { value, unused }),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            // serde names a missing field in its message; put it in the field slot instead.
            if let Some(rest) = inner.strip_prefix("missing field `") {
                let name = rest.split('`').next().unwrap_or(rest);
                let full = if path == "." {
                    name.to_owned()
                } else {
                    format!("{path}.{name}")
                };
                return Err(FieldError {
                    field: Some(full),
                    message: "missing".into(),
                });
            }
            Err(FieldError {
                field: (path != ".").then_some(path),
                message: inner,
            })
        }
    }
}

/// Reads `value` as `T`. Internally tagged enums (such as the core's `Action`) hide the path of
/// a bad field from serde; then the culprit is found by leaving each field out in turn.
pub fn read<T: DeserializeOwned>(value: Value) -> Result<Read<T>, FieldError> {
    let error = match attempt::<T>(value.clone()) {
        Ok(read) => return Ok(read),
        Err(error) if error.field.is_some() => return Err(error),
        Err(error) => error,
    };
    if let Value::Object(map) = &value {
        for key in map.keys() {
            if key == "command" {
                continue;
            }
            let mut without = map.clone();
            without.remove(key);
            let retry = attempt::<T>(Value::Object(without));
            let culprit = match &retry {
                Ok(_) => true,
                Err(e) => e.field.as_deref() == Some(key.as_str()) && e.message == "missing",
            };
            if culprit {
                return Err(FieldError {
                    field: Some(key.clone()),
                    message: error.message,
                });
            }
        }
    }
    Err(error)
}

/// Top-level fields of `object` that `T` does not use. For internally tagged enums (the core's
/// `Action`) serde passes fields to the variant through a buffer, so [`read`] cannot see the
/// ignored ones; each field is tried with a value no field type accepts, and if `T` still
/// reads, the field is unused. Callers bound the number of fields (each costs one parse).
pub fn unused_tagged_fields<T: DeserializeOwned>(
    object: &serde_json::Map<String, Value>,
) -> Vec<String> {
    let unreadable = serde_json::json!({ "\u{0}": null });
    object
        .keys()
        .filter(|key| {
            let mut probe = object.clone();
            probe.insert((*key).clone(), unreadable.clone());
            serde_json::from_value::<T>(Value::Object(probe)).is_ok()
        })
        .cloned()
        .collect()
}
