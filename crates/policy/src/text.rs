//! Text kept by compiled policies: a small-string type that holds up to 24 bytes inline, so
//! the short literals a policy is made of (action names, ARN components, condition keys and
//! values) cost no allocation of their own.

pub(crate) type Text = compact_str::CompactString;
