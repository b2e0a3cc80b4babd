//! A thin client for the LLM gateway's gRPC API (`llmgateway.v1`).
//!
//! The generated types of `llmgateway-proto` (re-exported as [`v1`]) are the
//! data model; this crate adds the connection (plaintext, or TLS with the
//! `tls` feature; API key), a default per-call deadline, request ids,
//! streaming (chat, text completion, batch chat) as a
//! [`Stream`](futures_util::Stream), stream reassembly, paging, health checks
//! and typed errors ([`Error`]).
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use llmgateway_client::{user_message, v1::ChatInput, Accumulator, Client};
//!
//! # async fn run() -> Result<(), llmgateway_client::Error> {
//! let client = Client::builder("127.0.0.1:50051").api_key("my-key").connect().await?;
//! let input = ChatInput {
//!     model: "fast".into(),
//!     messages: vec![user_message("Hello")],
//!     ..Default::default()
//! };
//! let reply = client.chat(input.clone()).await?;
//! println!("{}", llmgateway_client::text(&reply));
//!
//! let mut events = client.stream(input);
//! let mut acc = Accumulator::new();
//! while let Some(event) = events.next().await {
//!     acc.push(&event?);
//! }
//! println!("{:?}", acc.into_response().finish_reason());
//! # Ok(()) }
//! ```

#![warn(missing_docs, missing_debug_implementations)]

mod client;
mod error;
mod helpers;
mod reassemble;

pub use client::{
    AuthChannel, BatchResult, BearerAuth, Call, Client, ClientBuilder, DEFAULT_TIMEOUT,
};
pub use error::{Error, FieldViolation};
pub use helpers::{batch_chat_request, embed_texts, text, user_message};
pub use reassemble::{reassemble, reassemble_completion, Accumulator, CompletionAccumulator};

/// The generated messages and clients of `llmgateway.v1`.
pub use llmgateway_proto::v1;
/// The token of [`Call::cancel_on`].
pub use tokio_util::sync::CancellationToken;
/// The gRPC status codes of [`Error::code`].
pub use tonic::Code;
/// The result of [`Client::health`].
pub use tonic_health::pb::health_check_response::ServingStatus;
