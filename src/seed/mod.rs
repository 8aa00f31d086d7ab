//! Seed files and state export/import (design notes §1–2): `--init FILE`, `GET`/`POST
//! /_localiam/state`, and what `POST /_localiam/reset` returns to.
//!
//! A seed is built into a state by running the API's own operations (CreateUser, CreateRole,
//! PutUserPolicy, …, decoded from the same parameters a request carries, so with the same
//! validation and AWS's messages) as the account's root user, against a scratch in-memory store;
//! identifiers, dates and secrets the file gives are then set on what the operation made. Only the
//! finished state is written into the real store, in one transaction, so an invalid file leaves
//! nothing behind.

mod apply;
mod export;
mod format;

use std::path::Path;
use std::sync::Arc;

pub use export::export;
pub use format::*;

use crate::config::Config;
use crate::store::Model;

/// Why a seed was refused: where in the file (`accounts[0].roles[2].AssumeRolePolicyDocument`)
/// and AWS's reason (`MalformedPolicyDocument: …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedError {
    /// The file, when the seed came from one.
    pub file: Option<String>,
    /// The path inside the file; empty when the whole text is at fault.
    pub path: String,
    pub reason: String,
}

impl SeedError {
    pub(crate) fn at(path: impl Into<String>, reason: impl Into<String>) -> SeedError {
        SeedError {
            file: None,
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for SeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.reason)
    }
}

impl std::error::Error for SeedError {}

/// The syntax of a seed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Json,
    Yaml,
}

impl Syntax {
    /// By a file's extension (`.yaml`/`.yml`, `.json`), else by its first character (`{`: JSON).
    pub fn of_file(path: &Path, text: &str) -> Syntax {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml") => {
                Syntax::Yaml
            }
            Some(e) if e.eq_ignore_ascii_case("json") => Syntax::Json,
            _ => Syntax::sniff(text),
        }
    }

    /// By a content type (`application/yaml`, `application/json`, …), else by the first character.
    pub fn of_content_type(content_type: Option<&str>, text: &str) -> Syntax {
        match content_type {
            Some(t) if t.contains("yaml") => Syntax::Yaml,
            Some(t) if t.contains("json") => Syntax::Json,
            _ => Syntax::sniff(text),
        }
    }

    fn sniff(text: &str) -> Syntax {
        if text.trim_start().starts_with('{') {
            Syntax::Json
        } else {
            Syntax::Yaml
        }
    }
}

/// Parses a seed text; unknown fields are refused, with the path of what does not fit.
pub fn parse(text: &str, syntax: Syntax) -> Result<SeedFile, SeedError> {
    let located = |path: String, reason: String| {
        SeedError::at(if path == "." { String::new() } else { path }, reason)
    };
    match syntax {
        Syntax::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            let seed: SeedFile = serde_path_to_error::deserialize(&mut de)
                .map_err(|e| located(e.path().to_string(), e.inner().to_string()))?;
            de.end()
                .map_err(|e| located(String::new(), e.to_string()))?;
            Ok(seed)
        }
        Syntax::Yaml => {
            let de = serde_norway::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(|e| {
                // serde_norway's message starts with its own (shorter) path: said once is enough.
                let reason = e.inner().to_string();
                let reason = match reason.split_once(": ") {
                    Some((head, rest)) if !head.contains(' ') && head.contains(['.', '[']) => {
                        rest.to_string()
                    }
                    _ => reason,
                };
                located(e.path().to_string(), reason)
            })
        }
    }
}

/// The state a seed makes (see the module's documentation), with `config`'s default account and
/// root key.
pub async fn build(config: &Config, seed: &SeedFile) -> Result<Arc<Model>, SeedError> {
    apply::build(config, seed).await
}

/// Reads, parses and builds the seed file at `path`; errors name the file.
pub async fn build_file(config: &Config, path: &Path) -> Result<Arc<Model>, SeedError> {
    let name = path.display().to_string();
    let named = |mut e: SeedError| {
        e.file = Some(name.clone());
        e
    };
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|e| named(SeedError::at("", format!("cannot read the file: {e}"))))?;
    let seed = parse(&text, Syntax::of_file(path, &text)).map_err(named)?;
    build(config, &seed).await.map_err(named)
}

/// The state as a seed text in `syntax`.
pub fn render(seed: &SeedFile, syntax: Syntax) -> Result<String, String> {
    match syntax {
        Syntax::Json => serde_json::to_string_pretty(seed).map_err(|e| e.to_string()),
        Syntax::Yaml => serde_norway::to_string(seed).map_err(|e| e.to_string()),
    }
}
