//! [`Error`]: one type for every failure, with the gateway's rich error
//! details (google.rpc ErrorInfo, RetryInfo, BadRequest, RequestInfo) decoded,
//! and the errors of batch items (ItemError).

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use llmgateway_proto::v1::{ErrorReason, ItemError};
use tonic::{Code, Status};
use tonic_types::StatusExt;

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failed call: the gRPC status code and message, and the gateway's rich
/// error details when it sent them (the fields stay empty otherwise).
///
/// ```no_run
/// # async fn f(client: llmgateway_client::Client, input: llmgateway_client::v1::ChatInput) {
/// use llmgateway_client::Code;
/// match client.chat(input).await {
///     Ok(reply) => println!("{}", llmgateway_client::text(&reply)),
///     Err(e) if e.code() == Code::ResourceExhausted => {
///         println!("rate limited; retry in {:?}", e.retry_delay())
///     }
///     Err(e) => println!("{e} (reason {}, request id {})", e.reason(), e.request_id()),
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct Error(Box<Inner>); // boxed: a Result<T, Error> stays small

#[derive(Debug)]
struct Inner {
    code: Code,
    message: String,
    reason: String,
    domain: String,
    metadata: HashMap<String, String>,
    retry_delay: Option<Duration>,
    field_violations: Vec<FieldViolation>,
    request_id: String,
    source: Option<Source>,
}

/// One invalid field of a request (`google.rpc.BadRequest.FieldViolation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The field's path, such as "input.messages".
    pub field: String,
    /// Why it is invalid.
    pub description: String,
}

impl Error {
    /// An error raised by the client itself (no status from the server).
    pub(crate) fn local(code: Code, message: impl Into<String>) -> Self {
        Error(Box::new(Inner {
            code,
            message: message.into(),
            reason: String::new(),
            domain: String::new(),
            metadata: HashMap::new(),
            retry_delay: None,
            field_violations: Vec::new(),
            request_id: String::new(),
            source: None,
        }))
    }

    pub(crate) fn with_source(mut self, source: impl Into<Source>) -> Self {
        self.0.source = Some(source.into());
        self
    }

    /// The call's deadline passed before it completed.
    pub(crate) fn deadline_exceeded() -> Self {
        Error::local(Code::DeadlineExceeded, "deadline exceeded")
    }

    /// The call was cancelled through its cancellation token.
    pub(crate) fn cancelled() -> Self {
        Error::local(Code::Cancelled, "cancelled by the caller")
    }

    /// The gRPC status code.
    pub fn code(&self) -> Code {
        self.0.code
    }

    /// The developer-facing message.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// `ErrorInfo.reason`: the gateway's stable reason ("MODEL_NOT_FOUND",
    /// ...; see [`Error::error_reason`]). Empty when not sent.
    pub fn reason(&self) -> &str {
        &self.0.reason
    }

    /// The reason as the contract's [`ErrorReason`] constant; `None` when no
    /// reason was sent or it is newer than this client.
    pub fn error_reason(&self) -> Option<ErrorReason> {
        ErrorReason::from_str_name(&format!("ERROR_REASON_{}", self.0.reason))
    }

    /// `ErrorInfo.domain` ("llmgateway"). Empty when not sent.
    pub fn domain(&self) -> &str {
        &self.0.domain
    }

    /// `ErrorInfo.metadata`: context such as "provider", "model",
    /// "upstream_status", "upstream_request_id".
    pub fn metadata(&self) -> &HashMap<String, String> {
        &self.0.metadata
    }

    /// `RetryInfo.retry_delay`: the call may be retried after this delay.
    pub fn retry_delay(&self) -> Option<Duration> {
        self.0.retry_delay
    }

    /// `BadRequest.field_violations`: each invalid field of the request.
    pub fn field_violations(&self) -> &[FieldViolation] {
        &self.0.field_violations
    }

    /// `RequestInfo.request_id`: the gateway's request id, for its logs.
    /// Empty when not sent.
    pub fn request_id(&self) -> &str {
        &self.0.request_id
    }

    /// The status received from the server; `None` for errors raised by the
    /// client (connection failures, its own deadline, cancellation) and for
    /// the errors of batch items.
    pub fn status(&self) -> Option<&Status> {
        self.0.source.as_ref()?.downcast_ref::<Status>()
    }
}

impl From<Status> for Error {
    /// Decodes the rich details of `grpc-status-details-bin`. Usable on the
    /// errors of the generated clients too (see `Client::channel`).
    fn from(status: Status) -> Self {
        let mut code = status.code();
        // tonic reports its own client-side deadline as CANCELLED "Timeout
        // expired"; it is a deadline in gRPC terms.
        if code == Code::Cancelled && status.message() == "Timeout expired" {
            code = Code::DeadlineExceeded;
        }
        let mut error = Error::local(code, status.message());
        let e = &mut *error.0;
        // Undecodable details are ignored: the code and message still stand.
        if let Ok(details) = status.check_error_details() {
            if let Some(info) = details.error_info() {
                e.reason = info.reason.clone();
                e.domain = info.domain.clone();
                e.metadata = info.metadata.clone();
            }
            e.retry_delay = details.retry_info().and_then(|r| r.retry_delay);
            if let Some(bad_request) = details.bad_request() {
                e.field_violations = bad_request
                    .field_violations
                    .iter()
                    .map(|v| FieldViolation {
                        field: v.field.clone(),
                        description: v.description.clone(),
                    })
                    .collect();
            }
            if let Some(info) = details.request_info() {
                e.request_id = info.request_id.clone();
            }
        }
        error.with_source(status)
    }
}

impl From<ItemError> for Error {
    /// The error of one batch item: its code, message, reason, metadata,
    /// retry delay, field violations and request id. An ItemError carries
    /// no domain; that stays empty.
    fn from(item: ItemError) -> Self {
        let mut error = Error::local(Code::from(item.code), item.message);
        let e = &mut *error.0;
        e.reason = item.reason;
        e.metadata = item.metadata;
        // A negative delay (invalid) is dropped rather than clamped.
        e.retry_delay = item.retry_delay.and_then(|d| Duration::try_from(d).ok());
        e.field_violations = item
            .field_violations
            .into_iter()
            .map(|v| FieldViolation {
                field: v.field,
                description: v.description,
            })
            .collect();
        e.request_id = item.request_id;
        error
    }
}

impl From<tonic::transport::Error> for Error {
    /// A connection failure: UNAVAILABLE.
    fn from(error: tonic::transport::Error) -> Self {
        // tonic's message is only "transport error"; the cause is in the chain.
        let mut message = error.to_string();
        let mut cause = std::error::Error::source(&error);
        while let Some(e) = cause {
            message = format!("{message}: {e}");
            cause = e.source();
        }
        Error::local(Code::Unavailable, message).with_source(error)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.0;
        write!(f, "{:?}: {}", e.code, e.message)?;
        if !e.reason.is_empty() {
            write!(f, " [{}]", e.reason)?;
        }
        for v in &e.field_violations {
            write!(f, "; {}: {}", v.field, v.description)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source.as_deref().map(|s| s as _)
    }
}
