//! The connection layer (README, "Limits"): accepts connections up to `--max-connections`, serves
//! each with hyper's HTTP/1.1 (header size and header time limits), and puts every request through
//! the checks that need no parsing — the in-flight bound, the URL length, a declared body too
//! large — before the router. Bodies are read through [`GuardedBody`], which ends a body that is
//! too large or too slow.
//!
//! On the hot path this adds no allocation: the in-flight permit is an atomic, the body guard is
//! boxed in place of hyper's body (axum boxes a body either way) and only creates its timer when
//! a body does not arrive at once.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use axum::routing::future::RouteFuture;
use axum::Router;
use bytes::Bytes;
use http::{header, HeaderValue, Request, StatusCode};
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

use crate::api::Service;
use crate::config::Limits;
use crate::error::ApiError;
use crate::ids;
use crate::protocol::xml::error_envelope;

/// Connections past `--max-connections` being answered 503 at once; past this many more, a new
/// connection is closed without an answer.
const REFUSING_AT_ONCE: usize = 64;
/// How long a connection past the bound may take to send the request it is refused.
const REFUSAL_HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a stop waits for open connections to finish their request.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

struct Shared {
    router: Router,
    limits: Limits,
    in_flight: Arc<Semaphore>,
    http: http1::Builder,
}

/// Serves `router` on `listener` within `limits` until `shutdown` resolves; then stops accepting,
/// lets each open connection finish the request it is in (for at most [`SHUTDOWN_GRACE`]) and
/// returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        // hyper counts the request line in its header limit; the URL has its own limit (answered
        // in XML by the service below), so a long URL never meets the header limit first.
        .max_header_size(
            limits
                .max_header_bytes
                .saturating_add(limits.max_url_bytes)
                .saturating_add(64),
        );
    let mut refusing_http = http1::Builder::new();
    refusing_http
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout.min(REFUSAL_HEADER_TIMEOUT))
        .keep_alive(false);
    let connections = Arc::new(Semaphore::new(limits.max_connections as usize));
    let refusing = Arc::new(Semaphore::new(REFUSING_AT_ONCE));
    let shared = Arc::new(Shared {
        router,
        in_flight: Arc::new(Semaphore::new(limits.max_in_flight as usize)),
        limits,
        http,
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        match connections.clone().try_acquire_owned() {
            Ok(permit) => {
                let service = ConnService {
                    shared: shared.clone(),
                    peer,
                };
                tokio::spawn(serve_connection(
                    shared.clone(),
                    stream,
                    service,
                    stop_rx.clone(),
                    permit,
                ));
            }
            Err(_) => {
                // Past the bound: a 503 if a refusal slot is free, else the socket is closed.
                if let Ok(permit) = refusing.clone().try_acquire_owned() {
                    let conn = refusing_http.serve_connection(
                        TokioIo::new(stream),
                        hyper::service::service_fn(|_req: Request<Incoming>| async {
                            Ok::<_, Infallible>(refusal(&too_many_connections()))
                        }),
                    );
                    tokio::spawn(async move {
                        let _ = conn.await;
                        drop(permit);
                    });
                }
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(stop_rx);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, stop_tx.closed()).await;
}

async fn serve_connection(
    shared: Arc<Shared>,
    stream: TcpStream,
    service: ConnService,
    mut stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let mut conn = std::pin::pin!(shared.http.serve_connection(TokioIo::new(stream), service));
    let stopped = tokio::select! {
        _ = conn.as_mut() => false,
        r = stop.wait_for(|stopped| *stopped) => r.is_ok(),
    };
    if stopped {
        conn.as_mut().graceful_shutdown();
        let _ = conn.await;
    }
}

/// Accept errors other than a connection reset before it was accepted (EMFILE and the like):
/// logged, and accepting resumes a little later, when descriptors may have been freed.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused
    ) {
        return;
    }
    tracing::error!(error = %e, "accept error");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

fn too_many_connections() -> ApiError {
    ApiError::new(
        "ServiceUnavailable",
        StatusCode::SERVICE_UNAVAILABLE,
        "The server has too many open connections; try again later.",
    )
}

/// An error answered before the router: AWS's envelope (IAM's namespace: the service is not
/// known yet), and the connection closed after it (its body, if any, is not read).
fn refusal(e: &ApiError) -> Response {
    let request_id = ids::request_id();
    tracing::info!(request_id = %request_id, status = e.status.as_u16(), code = %e.code, "request refused");
    let mut resp = error_response(e, &request_id);
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// `e` in AWS's XML envelope with IAM's namespace, as the Query handler renders errors.
pub fn error_response(e: &ApiError, request_id: &str) -> Response {
    let body = error_envelope(
        Service::Iam.xmlns(),
        e.sender_fault,
        &e.code,
        &e.message,
        request_id,
    );
    let mut resp = (e.status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-RequestId", v);
    }
    resp
}

/// The service of one connection: the checks before the router, then the router.
#[derive(Clone)]
struct ConnService {
    shared: Arc<Shared>,
    peer: SocketAddr,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response;
    type Error = Infallible;
    type Future = ConnFuture;

    fn call(&self, mut req: Request<Incoming>) -> ConnFuture {
        let limits = &self.shared.limits;
        let Ok(permit) = self.shared.in_flight.clone().try_acquire_owned() else {
            return ConnFuture::Ready(Some(refusal(&ApiError::new(
                "ServiceUnavailable",
                StatusCode::SERVICE_UNAVAILABLE,
                "The server has too many requests in flight; try again later.",
            ))));
        };
        let url = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
        if url > limits.max_url_bytes {
            return ConnFuture::Ready(Some(refusal(&ApiError::new(
                "RequestURITooLong",
                StatusCode::URI_TOO_LONG,
                format!(
                    "The request URL is longer than {} bytes; send the parameters in a POST body.",
                    limits.max_url_bytes
                ),
            ))));
        }
        // A Content-Length over the limit is refused before any of the body is read.
        if req.body().size_hint().lower() > limits.max_body_bytes as u64 {
            return ConnFuture::Ready(Some(refusal(&body_too_large(limits.max_body_bytes))));
        }
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let req = req.map(|body| {
            Body::new(GuardedBody {
                inner: body,
                remaining: limits.max_body_bytes,
                limit: limits.max_body_bytes,
                timeout: limits.body_timeout,
                deadline: Instant::now() + limits.body_timeout,
                timer: None,
            })
        });
        let mut router = self.shared.router.clone();
        ConnFuture::Routed {
            fut: tower_service::Service::call(&mut router, req),
            _permit: permit,
        }
    }
}

/// The answer of [`ConnService`]: the router's, holding the in-flight permit until it is ready,
/// or a refusal. (Not boxed: that would be an allocation per request; hyper keeps it in place.)
#[allow(clippy::large_enum_variant)]
pub enum ConnFuture {
    Routed {
        fut: RouteFuture<Infallible>,
        _permit: OwnedSemaphorePermit,
    },
    Ready(Option<Response>),
}

impl Future for ConnFuture {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            ConnFuture::Routed { fut, .. } => Pin::new(fut).poll(cx),
            ConnFuture::Ready(resp) => Poll::Ready(Ok(resp
                .take()
                .unwrap_or_else(|| StatusCode::SERVICE_UNAVAILABLE.into_response()))),
        }
    }
}

fn body_too_large(limit: usize) -> ApiError {
    ApiError::new(
        "RequestEntityTooLarge",
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("The request body is larger than {limit} bytes."),
    )
}

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the request body did not arrive within {0:?}")]
    TimedOut(Duration),
}

/// A request body that fails once it exceeds the size limit or has not ended by its deadline
/// (the body timeout, counted from the end of the headers).
struct GuardedBody {
    inner: Incoming,
    remaining: usize,
    limit: usize,
    timeout: Duration,
    deadline: Instant,
    /// Created the first time the body is not there yet (most bodies arrive with their headers).
    timer: Option<Pin<Box<Sleep>>>,
}

impl HttpBody for GuardedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    match this.remaining.checked_sub(data.len()) {
                        Some(rest) => this.remaining = rest,
                        None => {
                            return Poll::Ready(Some(Err(BodyError::TooLarge(this.limit).into())))
                        }
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                let deadline = this.deadline;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        Poll::Ready(Some(Err(BodyError::TimedOut(this.timeout).into())))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Reads a whole request body (within the limits [`GuardedBody`] enforces), or the AWS error
/// that says why it could not be: 413 `RequestEntityTooLarge`, 408 `RequestTimeout`, or 400
/// `MalformedHttpRequest` for a body cut short or badly framed.
pub async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, usize::MAX).await.map_err(|e| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(err) = source {
            match err.downcast_ref::<BodyError>() {
                Some(BodyError::TooLarge(limit)) => return body_too_large(*limit),
                Some(BodyError::TimedOut(after)) => {
                    return ApiError::new(
                        "RequestTimeout",
                        StatusCode::REQUEST_TIMEOUT,
                        format!(
                            "The request body was not received within {} seconds.",
                            after.as_secs_f64()
                        ),
                    )
                }
                None => source = err.source(),
            }
        }
        ApiError::new(
            "MalformedHttpRequest",
            StatusCode::BAD_REQUEST,
            "The request body could not be read.",
        )
    })
}
