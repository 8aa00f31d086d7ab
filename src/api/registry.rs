//! The table of implemented operations: typed handlers registered against the generated
//! [`Operation`]s. An operation of the model that no handler is registered for answers
//! `NotImplemented`; a name outside the model answers `InvalidAction`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use crate::api::Ctx;
use crate::error::ApiError;
use crate::protocol::query::{FromParams, Params, Validator};
use crate::protocol::xml::success_envelope;
use crate::protocol::{iam, sts, Operation};
use crate::state::App;

/// The service a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Iam,
    Sts,
}

impl Service {
    pub fn xmlns(self) -> &'static str {
        match self {
            Service::Iam => iam::XMLNS,
            Service::Sts => sts::XMLNS,
        }
    }
    pub fn api_version(self) -> &'static str {
        match self {
            Service::Iam => iam::API_VERSION,
            Service::Sts => sts::API_VERSION,
        }
    }
    /// The prefix of this service's actions in policies (`iam:CreateUser`).
    pub fn action_prefix(self) -> &'static str {
        match self {
            Service::Iam => "iam",
            Service::Sts => "sts",
        }
    }
    pub fn operations(self) -> &'static [&'static str] {
        match self {
            Service::Iam => iam::OPERATIONS,
            Service::Sts => sts::OPERATIONS,
        }
    }
    fn echo_values(self) -> bool {
        match self {
            Service::Iam => iam::ECHO_VALUES,
            Service::Sts => sts::ECHO_VALUES,
        }
    }
    /// The operation of this service named `action`, as the model spells it (the generated lists
    /// are sorted).
    pub fn operation(self, action: &str) -> Option<&'static str> {
        let ops = self.operations();
        ops.binary_search(&action).ok().map(|i| ops[i])
    }
    /// The service a bare action name belongs to, when the request does not say.
    pub fn of_action(action: &str) -> Option<Service> {
        if Service::Sts.operation(action).is_some() {
            Some(Service::Sts)
        } else if Service::Iam.operation(action).is_some() {
            Some(Service::Iam)
        } else {
            None
        }
    }
}

/// Operations that answer a pattern violation with their own message rather than the model's
/// wording (as recorded on real AWS): (member path, message).
fn pattern_messages(operation: &str) -> &'static [(&'static str, &'static str)] {
    match operation {
        "CreateVirtualMFADevice" => &[(
            "path",
            "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.",
        )],
        _ => &[],
    }
}

/// The validator of an operation's input, worded as AWS words that operation's errors.
fn validator(service: Service, operation: &str) -> Validator {
    Validator::new(service.echo_values()).with_pattern_messages(pattern_messages(operation))
}

/// The input of operation `O` decoded from `params` and checked against the model's constraints,
/// as every request's is: AWS's `ValidationError` when it breaks one.
pub fn decode_input<O: Operation>(service: Service, params: &Params) -> Result<O::Input, ApiError> {
    let mut v = validator(service, O::NAME);
    let input = O::Input::from_params(params, "", "", &mut v);
    v.finish()?;
    Ok(input)
}

/// Decodes and validates `params` as the input of `action`, running nothing: what a request meets
/// before its handler, for fuzzing and tests. `InvalidAction` for a name outside the model.
pub fn check_input(service: Service, action: &str, params: &Params) -> Result<(), ApiError> {
    let mut v = validator(service, action);
    let known = match service {
        Service::Iam => iam::decode_input(action, params, &mut v),
        Service::Sts => sts::decode_input(action, params, &mut v),
    };
    if !known {
        return Err(ApiError::invalid_action(action, service.api_version()));
    }
    v.finish()
}

/// A handler's future, type-erased: resolves to the XML body of the response.
pub type BoxFuture = Pin<Box<dyn Future<Output = Result<String, ApiError>> + Send>>;
/// What runs between decoding a request's input and making its handler's future (the
/// authorization of `audit`/`enforce`): it sees the context before the handler takes it.
pub type Check<'a> = &'a mut dyn FnMut(&Ctx) -> Result<(), ApiError>;
type Erased =
    Box<dyn Fn(App, Ctx, &Params, Check<'_>) -> Result<BoxFuture, ApiError> + Send + Sync>;

/// Implemented operations by service and name.
#[derive(Default)]
pub struct Registry {
    /// Looked up on every request: foldhash, not SipHash (the keys are the model's names).
    ops: HashMap<(Service, &'static str), Erased, foldhash::fast::RandomState>,
}

impl Registry {
    /// Registers `handler` for operation `O` of `service`.
    pub fn add<O, F, Fut>(&mut self, service: Service, handler: F)
    where
        O: Operation,
        F: Fn(App, Ctx, O::Input) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O::Output, ApiError>> + Send + 'static,
    {
        let erased: Erased = Box::new(
            move |app: App, ctx: Ctx, params: &Params, check: Check<'_>| {
                let input = decode_input::<O>(service, params)?;
                check(&ctx)?;
                let request_id = ctx.request_id.clone();
                let fut = handler(app, ctx, input);
                Ok(Box::pin(async move {
                    let out = fut.await?;
                    Ok(success_envelope(
                        O::NAME,
                        service.xmlns(),
                        O::HAS_RESULT,
                        &out,
                        &request_id,
                    ))
                }) as BoxFuture)
            },
        );
        self.ops.insert((service, O::NAME), erased);
    }

    pub fn iam<O, F, Fut>(&mut self, handler: F)
    where
        O: Operation,
        F: Fn(App, Ctx, O::Input) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O::Output, ApiError>> + Send + 'static,
    {
        self.add::<O, F, Fut>(Service::Iam, handler)
    }

    pub fn sts<O, F, Fut>(&mut self, handler: F)
    where
        O: Operation,
        F: Fn(App, Ctx, O::Input) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O::Output, ApiError>> + Send + 'static,
    {
        self.add::<O, F, Fut>(Service::Sts, handler)
    }

    /// Decodes and validates the input, then returns the handler's future.
    pub fn dispatch(
        &self,
        app: App,
        ctx: Ctx,
        service: Service,
        action: &str,
        params: &Params,
    ) -> Result<BoxFuture, ApiError> {
        self.dispatch_checked(app, ctx, service, action, params, &mut |_| Ok(()))
    }

    /// [`Registry::dispatch`], with `check` run once the input is decoded and validated, before
    /// the handler's future is made: an error from it is the request's answer.
    pub fn dispatch_checked(
        &self,
        app: App,
        ctx: Ctx,
        service: Service,
        action: &str,
        params: &Params,
        check: Check<'_>,
    ) -> Result<BoxFuture, ApiError> {
        match self.ops.get(&(service, action)) {
            Some(run) => run(app, ctx, params, check),
            None if service.operations().contains(&action) => {
                Err(ApiError::not_implemented(action))
            }
            None => Err(ApiError::invalid_action(action, service.api_version())),
        }
    }

    pub fn is_implemented(&self, service: Service, action: &str) -> bool {
        self.ops.contains_key(&(service, action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Service::operation` (and `of_action`) search the generated lists by bisection.
    #[test]
    fn the_operation_lists_are_sorted_and_found() {
        for service in [Service::Iam, Service::Sts] {
            let ops = service.operations();
            assert!(ops.windows(2).all(|w| w[0] < w[1]));
            for op in ops {
                assert_eq!(Service::of_action(op), Some(service), "{op}");
            }
        }
        assert_eq!(Service::of_action("getuser"), None);
        assert_eq!(Service::of_action(""), None);
    }
}
