//! STS identity: GetCallerIdentity, GetAccessKeyInfo.

use crate::api::{Ctx, Registry};
use crate::auth::authenticate::lookup_key;
use crate::error::ApiError;
use crate::protocol::sts;
use crate::state::App;

pub fn register(r: &mut Registry) {
    r.sts::<sts::GetCallerIdentity, _, _>(get_caller_identity);
    r.sts::<sts::GetAccessKeyInfo, _, _>(get_access_key_info);
}

async fn get_caller_identity(
    _app: App,
    ctx: Ctx,
    _input: sts::GetCallerIdentityRequest,
) -> Result<sts::GetCallerIdentityResponse, ApiError> {
    Ok(sts::GetCallerIdentityResponse {
        user_id: Some(ctx.principal.user_id.clone()),
        account: Some(ctx.principal.account_id.clone()),
        arn: Some(ctx.principal.arn.clone()),
    })
}

async fn get_access_key_info(
    app: App,
    ctx: Ctx,
    input: sts::GetAccessKeyInfoRequest,
) -> Result<sts::GetAccessKeyInfoResponse, ApiError> {
    // (A 12-digit key ID, which would name its account, is below the model's minimum length.)
    let account = match lookup_key(&app, &input.access_key_id) {
        Some(key) => key.principal.account_id.clone(),
        None => ctx.account().to_string(),
    };
    Ok(sts::GetAccessKeyInfoResponse {
        account: Some(account),
    })
}
