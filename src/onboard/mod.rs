//! Onboarding and offboarding storage accounts: in-place spec edits that keep
//! comments and formatting (`toml_edit`), the render-then-write sequence that
//! never lets the spec name an account `generated/` does not cover, and the
//! live reads (bucket counts through the verifier's audit-role path,
//! Organizations tags) behind `xacct capacity`, `offboard` and `accounts`.

pub mod create;
pub mod deploy;
pub mod live;
pub mod stackset;

use std::path::{Path, PathBuf};

use toml_edit::{Array, DocumentMut, Item, Value};

use crate::model::{Environment, LoadOptions, is_account_id};
use crate::render::output::{self, WriteReport};
use crate::render::{RenderedFile, Renderer};

/// Why a spec edit cannot be made (all input errors: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{0:?} is not an AWS account ID: exactly 12 digits")]
    BadAccount(String),
    #[error("{path}: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("{path}: `storage.accounts` is not an array of strings")]
    NotAnArray { path: PathBuf },
}

/// Checks an account ID given on the command line.
pub fn check_account(account: &str) -> Result<(), EditError> {
    if is_account_id(account) {
        Ok(())
    } else {
        Err(EditError::BadAccount(account.to_owned()))
    }
}

fn parse(path: &Path, text: &str) -> Result<DocumentMut, EditError> {
    text.parse::<DocumentMut>().map_err(|e| EditError::Toml {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })
}

/// `text` with `account` appended to `storage.accounts`, formatting and
/// comments kept (a multi-line array stays multi-line, one ID per line).
/// Does not check whether the result is a valid spec: see [`plan_change`].
pub fn add_account(path: &Path, text: &str, account: &str) -> Result<String, EditError> {
    check_account(account)?;
    let mut doc = parse(path, text)?;
    let storage = doc
        .get_mut("storage")
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| EditError::Toml {
            path: path.to_owned(),
            message: "no [storage] table".to_owned(),
        })?;
    match storage.get_mut("accounts") {
        None => {
            let mut arr = Array::new();
            arr.push(account);
            storage.insert("accounts", Item::Value(Value::Array(arr)));
        }
        Some(item) => {
            let arr = item.as_array_mut().ok_or_else(|| EditError::NotAnArray {
                path: path.to_owned(),
            })?;
            let prefix = arr
                .iter()
                .last()
                .and_then(|v| v.decor().prefix())
                .and_then(|p| p.as_str())
                .map(str::to_owned);
            let mut v = Value::from(account);
            match prefix {
                // Keep the line break and indentation, not a comment of the line before.
                Some(p) if p.contains('\n') => {
                    let indent = p.rsplit('\n').next().unwrap_or_default();
                    v.decor_mut().set_prefix(format!("\n{indent}"));
                }
                Some(p) if !p.is_empty() => v.decor_mut().set_prefix(p),
                _ if arr.is_empty() => v.decor_mut().set_prefix(""),
                _ => v.decor_mut().set_prefix(" "),
            }
            v.decor_mut().set_suffix("");
            arr.push_formatted(v);
        }
    }
    Ok(doc.to_string())
}

/// `text` without `account` in `storage.accounts` (`None`: it is not listed).
pub fn remove_account(path: &Path, text: &str, account: &str) -> Result<Option<String>, EditError> {
    check_account(account)?;
    let mut doc = parse(path, text)?;
    let Some(arr) = doc
        .get_mut("storage")
        .and_then(|s| s.get_mut("accounts"))
        .and_then(Item::as_array_mut)
    else {
        return Ok(None);
    };
    let Some(i) = arr.iter().position(|v| v.as_str() == Some(account)) else {
        return Ok(None);
    };
    let was_first_prefix = arr
        .get(0)
        .and_then(|v| v.decor().prefix())
        .and_then(|p| p.as_str())
        .map(str::to_owned);
    arr.remove(i);
    // Removing the first element of `["a", "b"]` would leave `[ "b"]`.
    if i == 0
        && let Some(p) = was_first_prefix
        && let Some(first) = arr.get_mut(0)
    {
        first.decor_mut().set_prefix(p);
    }
    Ok(Some(doc.to_string()))
}

/// A validated, rendered change, nothing written yet.
pub struct Change {
    pub env: Environment,
    /// The new spec's warnings (capacity), for the command to show.
    pub warnings: Vec<crate::model::Diagnostic>,
    pub new_text: String,
    pub files: Vec<RenderedFile>,
    pub out_dir: PathBuf,
}

/// Validates `new_text` as a spec and renders it in memory. Any error here is
/// an input error and nothing has been written.
pub fn plan_change(spec: &Path, new_text: String, out_root: &Path) -> anyhow::Result<Change> {
    let loaded = Environment::from_str(spec, &new_text, LoadOptions::default())?;
    let (env, warnings) = (loaded.env, loaded.warnings);
    let files = Renderer::new()?.render(&env)?;
    let out_dir = out_root.join(&env.short_name);
    Ok(Change {
        warnings,
        env,
        new_text,
        files,
        out_dir,
    })
}

pub use crate::render::output::write_atomic;

/// Which order the spec and `generated/` are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Adding an account: `generated/` first, so the spec never names an
    /// account the generated files do not cover.
    GeneratedFirst,
    /// Removing one: the spec first, for the same reason.
    SpecFirst,
}

/// Writes a planned change. On a failed `generated/` write after the spec was
/// already written (removal), the error says to re-render.
pub fn apply_change(
    spec: &Path,
    change: &Change,
    order: Order,
    previous: Option<&[RenderedFile]>,
) -> anyhow::Result<WriteReport> {
    use anyhow::Context;
    match order {
        Order::GeneratedFirst => {
            let report = match output::write(&change.out_dir, &change.files) {
                Ok(r) => r,
                Err(e) => {
                    // Put back what the unchanged spec renders; the spec was not touched.
                    if let Some(prev) = previous {
                        let _ = output::write(&change.out_dir, prev);
                    }
                    return Err(e).with_context(|| {
                        format!(
                            "writing `{}` failed; the spec was not changed",
                            change.out_dir.display()
                        )
                    });
                }
            };
            write_atomic(spec, &change.new_text).with_context(|| {
                format!(
                    "`{}` was re-rendered but `{}` could not be written: run the command again",
                    change.out_dir.display(),
                    spec.display()
                )
            })?;
            Ok(report)
        }
        Order::SpecFirst => {
            write_atomic(spec, &change.new_text)
                .with_context(|| format!("writing `{}`; nothing was changed", spec.display()))?;
            output::write(&change.out_dir, &change.files).with_context(|| {
                format!(
                    "`{}` was updated but `{}` could not be re-rendered: run `xacct render --env {}`",
                    spec.display(),
                    change.out_dir.display(),
                    spec.display()
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("x.toml")
    }

    #[test]
    fn add_keeps_formatting_and_comments() {
        let single =
            "[storage] # s\n# c\naccounts = [\"100000000002\", \"100000000003\"] # tail\nx = 1\n";
        assert_eq!(
            add_account(p(), single, "100000000004").unwrap(),
            "[storage] # s\n# c\naccounts = [\"100000000002\", \"100000000003\", \"100000000004\"] # tail\nx = 1\n"
        );
        let multi = "[storage]\naccounts = [\n  \"100000000002\", # a\n  \"100000000003\",\n]\n";
        assert_eq!(
            add_account(p(), multi, "100000000004").unwrap(),
            "[storage]\naccounts = [\n  \"100000000002\", # a\n  \"100000000003\",\n  \"100000000004\",\n]\n"
        );
        assert_eq!(
            add_account(p(), "[storage]\naccounts = []\n", "100000000004").unwrap(),
            "[storage]\naccounts = [\"100000000004\"]\n"
        );
        assert_eq!(
            add_account(p(), "[storage]\ndiscover = true\n", "100000000004").unwrap(),
            "[storage]\ndiscover = true\naccounts = [\"100000000004\"]\n"
        );
    }

    #[test]
    fn remove_keeps_formatting() {
        let single =
            "[storage]\naccounts = [\"100000000002\", \"100000000003\", \"100000000004\"] # t\n";
        assert_eq!(
            remove_account(p(), single, "100000000002")
                .unwrap()
                .unwrap(),
            "[storage]\naccounts = [\"100000000003\", \"100000000004\"] # t\n"
        );
        assert_eq!(
            remove_account(p(), single, "100000000004")
                .unwrap()
                .unwrap(),
            "[storage]\naccounts = [\"100000000002\", \"100000000003\"] # t\n"
        );
        assert_eq!(remove_account(p(), single, "100000000009").unwrap(), None);
    }

    #[test]
    fn bad_input() {
        for bad in [
            "",
            "12345678901",
            "1234567890123",
            "12345678901a",
            " 123456789012",
        ] {
            assert!(matches!(
                add_account(p(), "[storage]\n", bad),
                Err(EditError::BadAccount(_))
            ));
        }
        assert!(matches!(
            add_account(p(), "[storage\n", "100000000004"),
            Err(EditError::Toml { .. })
        ));
        assert!(matches!(
            add_account(p(), "[storage]\naccounts = \"x\"\n", "100000000004"),
            Err(EditError::NotAnArray { .. })
        ));
        assert!(matches!(
            add_account(p(), "x = 1\n", "100000000004"),
            Err(EditError::Toml { .. })
        ));
    }
}
