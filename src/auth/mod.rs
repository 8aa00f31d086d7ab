//! Authentication: SigV4 verification and the credentials localiam knows.
pub mod principal;
pub mod sigv4;

pub use principal::{Principal, PrincipalKind};
pub mod authenticate;

pub use authenticate::{authenticate, Authenticated};
