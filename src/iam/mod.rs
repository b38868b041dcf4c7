//! Typed IAM policy documents with a canonical JSON form.
//!
//! Every trust and permission document `xacct` deals with is a
//! [`PolicyDocument`]: [`documents`] builds the ones an environment needs, the
//! templates embed their canonical JSON, and audit and verify evaluate the same
//! values (parsed back from AWS or a Terraform plan with [`PolicyDocument::from_json`]).
//! This module knows nothing about files, templates or AWS calls.

pub mod documents;
pub mod live;

use std::collections::BTreeMap;

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

pub const POLICY_VERSION: &str = "2012-10-17";

/// One value or a list of values: serialized as a bare string when it holds
/// exactly one, as an array otherwise (the form AWS itself returns).
#[derive(Debug, Clone, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub struct Values(pub Vec<String>);

impl Values {
    pub fn one(v: impl Into<String>) -> Self {
        Values(vec![v.into()])
    }

    pub fn many<I, S>(it: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Values(it.into_iter().map(Into::into).collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Values {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => s.serialize_str(one),
            many => many.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Values {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Condition values may be JSON booleans or numbers; IAM compares them as strings.
        fn scalar<E: de::Error>(v: serde_json::Value) -> Result<String, E> {
            match v {
                serde_json::Value::String(s) => Ok(s),
                serde_json::Value::Bool(b) => Ok(b.to_string()),
                serde_json::Value::Number(n) => Ok(n.to_string()),
                other => Err(E::custom(format!(
                    "expected a string, boolean or number, got {other}"
                ))),
            }
        }
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Array(items) => Ok(Values(
                items.into_iter().map(scalar).collect::<Result<_, _>>()?,
            )),
            v => Ok(Values(vec![scalar(v)?])),
        }
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

/// The `Principal` (or `NotPrincipal`) element: `"*"` or a map from principal
/// type (`AWS`, `Service`, `Federated`, `CanonicalUser`) to values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Principal {
    Any,
    Map(BTreeMap<String, Values>),
}

impl Principal {
    pub fn aws<I, S>(arns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Principal::Map(BTreeMap::from([("AWS".to_owned(), Values::many(arns))]))
    }

    pub fn service(name: &str) -> Self {
        Principal::Map(BTreeMap::from([("Service".to_owned(), Values::one(name))]))
    }

    /// Values of one principal type (`AWS`, `Service`, ...).
    pub fn of_type(&self, kind: &str) -> Vec<&str> {
        match self {
            Principal::Any => Vec::new(),
            Principal::Map(m) => m.get(kind).map(|v| v.iter().collect()).unwrap_or_default(),
        }
    }

    /// `true` for `"*"` or `{"AWS": "*"}`.
    pub fn is_wildcard(&self) -> bool {
        match self {
            Principal::Any => true,
            Principal::Map(m) => m.values().any(|v| v.iter().any(|p| p == "*")),
        }
    }
}

impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Principal::Any => s.serialize_str("*"),
            Principal::Map(m) => m.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Principal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Star(String),
            Map(BTreeMap<String, Values>),
        }
        match Raw::deserialize(d)? {
            Raw::Star(s) if s == "*" => Ok(Principal::Any),
            Raw::Star(s) => Err(de::Error::custom(format!(
                "Principal must be \"*\" or an object, got {s:?}"
            ))),
            Raw::Map(m) => Ok(Principal::Map(m)),
        }
    }
}

/// `Condition`: operator (e.g. `StringEquals`) -> condition key -> values.
pub type Conditions = BTreeMap<String, BTreeMap<String, Values>>;

/// One statement, serialized in the canonical key order below.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Statement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub effect: Option<Effect>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_principal: Option<Principal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Values>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_action: Option<Values>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Values>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_resource: Option<Values>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub condition: Conditions,
}

impl Statement {
    /// An `Allow` statement with a `Sid` that says why it exists.
    pub fn allow(sid: &str) -> Self {
        Statement {
            sid: Some(sid.to_owned()),
            effect: Some(Effect::Allow),
            ..Statement::default()
        }
    }

    pub fn deny(sid: &str) -> Self {
        Statement {
            sid: Some(sid.to_owned()),
            effect: Some(Effect::Deny),
            ..Statement::default()
        }
    }

    pub fn principal(mut self, p: Principal) -> Self {
        self.principal = Some(p);
        self
    }

    pub fn actions<I, S>(mut self, it: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.action = Some(Values::many(it));
        self
    }

    pub fn resources<I, S>(mut self, it: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.resource = Some(Values::many(it));
        self
    }

    /// Adds `operator: { key: values }` to the condition block.
    pub fn condition<I, S>(mut self, operator: &str, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.condition
            .entry(operator.to_owned())
            .or_default()
            .insert(key.to_owned(), Values::many(values));
        self
    }
}

/// Statements may be one object or an array in the wild; we always write an array.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Statement>, D::Error> {
    // Go through a JSON value so errors name the offending element instead of
    // "did not match any variant".
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(|v| serde_json::from_value(v).map_err(de::Error::custom))
            .collect(),
        v => Ok(vec![serde_json::from_value(v).map_err(de::Error::custom)?]),
    }
}

/// A policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PolicyDocument {
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(deserialize_with = "one_or_many")]
    pub statement: Vec<Statement>,
}

/// A document that does not parse as IAM policy JSON.
#[derive(Debug, thiserror::Error)]
#[error("not an IAM policy document: {0}")]
pub struct ParseError(#[from] serde_json::Error);

impl PolicyDocument {
    pub fn new(statement: Vec<Statement>) -> Self {
        PolicyDocument {
            version: POLICY_VERSION.to_owned(),
            id: None,
            statement,
        }
    }

    /// Parses policy JSON (also URL-decoded text, as IAM's `GetRole` returns it, must
    /// be decoded by the caller first).
    pub fn from_json(text: &str) -> Result<Self, ParseError> {
        Ok(serde_json::from_str(text)?)
    }

    pub fn from_value(value: serde_json::Value) -> Result<Self, ParseError> {
        Ok(serde_json::from_value(value)?)
    }

    /// Canonical pretty JSON (2-space indent, stable key order, trailing newline).
    pub fn to_canonical_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("policy documents always serialize");
        s.push('\n');
        s
    }

    /// Canonical compact JSON, for embedding in a single template line.
    pub fn to_compact_json(&self) -> String {
        serde_json::to_string(self).expect("policy documents always serialize")
    }

    /// The statement with this `Sid`.
    pub fn statement(&self, sid: &str) -> Option<&Statement> {
        self.statement
            .iter()
            .find(|s| s.sid.as_deref() == Some(sid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_aws_shapes() {
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*",
            "Action":"s3:GetObject","Resource":["arn:aws:s3:::b/*"],
            "Condition":{"Bool":{"aws:SecureTransport":false}}}}"#;
        let doc = PolicyDocument::from_json(text).unwrap();
        assert_eq!(doc.statement.len(), 1);
        assert!(doc.statement[0].principal.as_ref().unwrap().is_wildcard());
        assert_eq!(
            doc.statement[0].condition["Bool"]["aws:SecureTransport"],
            Values::one("false")
        );
        let again = PolicyDocument::from_json(&doc.to_canonical_json()).unwrap();
        assert_eq!(doc, again);
    }

    #[test]
    fn canonical_key_order() {
        let doc = PolicyDocument::new(vec![
            Statement::allow("X")
                .principal(Principal::service("lambda.amazonaws.com"))
                .actions(["sts:AssumeRole"])
                .condition("StringEquals", "aws:SourceAccount", ["111111111111"]),
        ]);
        let json = doc.to_compact_json();
        assert_eq!(
            json,
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"X","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111111111111"}}}]}"#
        );
    }

    #[test]
    fn rejects_unknown_elements() {
        let err = PolicyDocument::from_json(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Actions":"s3:*"}]}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("Actions"), "{err}");
    }
}
