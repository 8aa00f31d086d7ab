//! The built-in web console at `/_localiam/console` (issue 14), and the best-practice findings
//! it shows (also served as JSON by `GET /_localiam/findings`).

pub mod findings;
