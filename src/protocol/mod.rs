//! The AWS Query protocol: parameter decoding and validation (`query`), XML output (`xml`), and the
//! typed operation layer generated from botocore's service models (`generated`).

pub mod generated;
pub mod query;
pub mod xml;

pub use generated::{iam, sts};

/// One API operation of a service model: its name and typed input and output.
pub trait Operation {
    const NAME: &'static str;
    /// False for operations whose response has no `<XResult>` element.
    const HAS_RESULT: bool;
    type Input: query::FromParams + Send + 'static;
    type Output: xml::ToXml + Send + 'static;
}

#[cfg(test)]
mod tests;
