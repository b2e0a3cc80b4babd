//! What needs no server: the reassembly rules on hand-made events, batch item
//! errors, and connection errors.

use std::collections::HashMap;
use std::time::Duration;

use llmgateway_client::v1::{
    part, stream_chat_response::Event, stream_complete_response, ChatResponse, CompleteResponse,
    CompletionChoice, CompletionChoiceDone, CompletionDelta, CompletionDone, CompletionStart,
    FinishReason, ItemError, Part, Role, StreamChatResponse, StreamCompleteResponse, StreamDone,
    StreamStart, TextDelta, TokenLogprob, ToolCall, ToolCallDelta, ToolCallEnd, ToolCallStart,
    Usage, UsageUpdate,
};
use llmgateway_client::{
    reassemble, reassemble_completion, Accumulator, Client, Code, CompletionAccumulator, Error,
    FieldViolation,
};

fn event(event: Event) -> StreamChatResponse {
    StreamChatResponse { event: Some(event) }
}

fn text(index: i32, text: &str) -> StreamChatResponse {
    event(Event::TextDelta(TextDelta {
        index,
        text: text.into(),
        ..Default::default()
    }))
}

fn usage(input_tokens: i64, output_tokens: i64) -> Usage {
    Usage {
        input_tokens,
        output_tokens,
        total_tokens: input_tokens + output_tokens,
        ..Default::default()
    }
}

#[test]
fn rebuilds_parts_by_index_and_ignores_unknown_events() {
    let call = ToolCall {
        id: "c1".into(),
        name: "f".into(),
        arguments_json: r#"{"a":1}"#.into(),
    };
    let events = [
        event(Event::Start(StreamStart {
            id: "r1".into(),
            model: "m".into(),
            provider: "p".into(),
            request_id: "req".into(),
            upstream_request_id: "up".into(),
        })),
        event(Event::ToolCallStart(ToolCallStart {
            index: 1,
            id: "c1".into(),
            name: "f".into(),
            ..Default::default()
        })),
        text(0, "Hel"),
        event(Event::ToolCallDelta(ToolCallDelta {
            index: 1,
            arguments_fragment: r#"{"a":"#.into(),
        })),
        StreamChatResponse { event: None }, // a kind this client does not know
        text(0, "lo"),
        event(Event::ToolCallEnd(ToolCallEnd {
            index: 1,
            tool_call: Some(call.clone()),
        })),
        event(Event::Usage(UsageUpdate {
            usage: Some(usage(1, 1)),
        })),
        event(Event::Done(StreamDone {
            finish_reason: FinishReason::ToolCalls.into(),
            provider_finish_reason: "tool_calls".into(),
            stop_sequence: String::new(),
            usage: Some(usage(3, 4)),
        })),
    ];

    let mut acc = Accumulator::new();
    for e in &events[..8] {
        acc.push(e);
    }
    assert!(!acc.is_done());
    assert_eq!(acc.response().usage, Some(usage(1, 1)));
    acc.push(&events[8]);
    assert!(acc.is_done());

    let rebuilt = reassemble(&events);
    assert_eq!(rebuilt, acc.into_response());
    let message = rebuilt.message.as_ref().unwrap();
    assert_eq!(message.role(), Role::Assistant);
    assert_eq!(
        message.parts,
        [
            Part {
                kind: Some(part::Kind::Text("Hello".into())),
                ..Default::default()
            },
            Part {
                kind: Some(part::Kind::ToolCall(call)),
                ..Default::default()
            },
        ]
    );
    assert_eq!(
        ChatResponse {
            message: None,
            ..rebuilt
        },
        ChatResponse {
            id: "r1".into(),
            model: "m".into(),
            provider: "p".into(),
            request_id: "req".into(),
            upstream_request_id: "up".into(),
            finish_reason: FinishReason::ToolCalls.into(),
            provider_finish_reason: "tool_calls".into(),
            usage: Some(usage(3, 4)),
            ..Default::default()
        }
    );
}

#[test]
fn orders_parts_by_index_not_arrival() {
    let rebuilt = reassemble([text(2, "c"), text(0, "a"), text(1, "b")]);
    let texts: Vec<_> = rebuilt
        .message
        .unwrap()
        .parts
        .into_iter()
        .map(|p| p.kind)
        .collect();
    let expected: Vec<_> = ["a", "b", "c"]
        .map(|t| Some(part::Kind::Text(t.into())))
        .into();
    assert_eq!(texts, expected);
}

fn completion_event(event: stream_complete_response::Event) -> StreamCompleteResponse {
    StreamCompleteResponse { event: Some(event) }
}

fn completion_delta(index: i32, text: &str, logprobs: &[f64]) -> StreamCompleteResponse {
    completion_event(stream_complete_response::Event::Delta(CompletionDelta {
        index,
        text: text.into(),
        logprobs: logprobs.iter().map(|&l| logprob(l)).collect(),
    }))
}

fn logprob(logprob: f64) -> TokenLogprob {
    TokenLogprob {
        logprob: Some(logprob),
        ..Default::default()
    }
}

fn choice_done(index: i32, reason: FinishReason) -> StreamCompleteResponse {
    completion_event(stream_complete_response::Event::ChoiceDone(
        CompletionChoiceDone {
            index,
            finish_reason: reason.into(),
            provider_finish_reason: format!("{reason:?}"),
        },
    ))
}

#[test]
fn rebuilds_completion_choices_by_index() {
    use stream_complete_response::Event;
    let events = [
        completion_event(Event::Start(CompletionStart {
            id: "cmpl-1".into(),
            model: "m".into(),
            provider: "p".into(),
            request_id: "req".into(),
            upstream_request_id: "up".into(),
        })),
        completion_delta(1, "b", &[-0.5]),
        completion_delta(0, "a", &[-0.1]),
        StreamCompleteResponse { event: None }, // a kind this client does not know
        completion_delta(1, "B", &[-0.25]),
        choice_done(1, FinishReason::Length),
        choice_done(2, FinishReason::Stop), // a choice with no text
        completion_delta(0, "A", &[]),
        choice_done(0, FinishReason::Stop),
        completion_event(Event::Done(CompletionDone {
            usage: Some(usage(3, 4)),
        })),
    ];

    let mut acc = CompletionAccumulator::new();
    for e in &events[..9] {
        acc.push(e);
    }
    assert!(!acc.is_done());
    assert_eq!(acc.response().usage, None);
    acc.push(&events[9]);
    assert!(acc.is_done());

    let rebuilt = reassemble_completion(&events);
    assert_eq!(rebuilt, acc.into_response());
    let choice = |index, text: &str, reason: FinishReason, logprobs: &[f64]| CompletionChoice {
        index,
        text: text.into(),
        finish_reason: reason.into(),
        provider_finish_reason: format!("{reason:?}"),
        logprobs: logprobs.iter().map(|&l| logprob(l)).collect(),
    };
    assert_eq!(
        rebuilt,
        CompleteResponse {
            id: "cmpl-1".into(),
            model: "m".into(),
            provider: "p".into(),
            choices: vec![
                choice(0, "aA", FinishReason::Stop, &[-0.1]),
                choice(1, "bB", FinishReason::Length, &[-0.5, -0.25]),
                choice(2, "", FinishReason::Stop, &[]),
            ],
            usage: Some(usage(3, 4)),
            request_id: "req".into(),
            upstream_request_id: "up".into(),
        }
    );
}

#[test]
fn item_error_becomes_a_typed_error() {
    let error = Error::from(ItemError {
        code: 8,
        message: "slow down".into(),
        reason: "UPSTREAM_RATE_LIMITED".into(),
        metadata: HashMap::from([("provider".into(), "echo".into())]),
        retry_delay: Some(Duration::from_millis(2500).try_into().unwrap()),
        ..Default::default()
    });
    assert_eq!(error.code(), Code::ResourceExhausted);
    assert_eq!(error.message(), "slow down");
    assert_eq!(error.reason(), "UPSTREAM_RATE_LIMITED");
    assert_eq!(
        error.metadata().get("provider").map(String::as_str),
        Some("echo")
    );
    assert_eq!(error.retry_delay(), Some(Duration::from_millis(2500)));
    assert!(error.status().is_none());

    let bare = Error::from(ItemError {
        code: 5,
        ..Default::default()
    });
    assert_eq!(bare.code(), Code::NotFound);
    assert_eq!(bare.retry_delay(), None);
    assert!(bare.field_violations().is_empty());

    let invalid = Error::from(ItemError {
        code: 3,
        message: "invalid request".into(),
        reason: "INVALID_REQUEST".into(),
        field_violations: vec![llmgateway_client::v1::FieldViolation {
            field: "items[2].input.model".into(),
            description: "required".into(),
        }],
        request_id: "batch-1.2".into(),
        ..Default::default()
    });
    assert_eq!(invalid.code(), Code::InvalidArgument);
    assert_eq!(
        invalid.field_violations(),
        [FieldViolation {
            field: "items[2].input.model".into(),
            description: "required".into(),
        }]
    );
    assert_eq!(invalid.request_id(), "batch-1.2");
}

#[tokio::test]
async fn connection_refused_is_unavailable() {
    // A port nobody listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = Client::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::Unavailable);
    assert!(error.message().contains("refused"), "{error}");

    let lazy = Client::builder(format!("127.0.0.1:{port}"))
        .connect_lazy()
        .unwrap();
    let error = lazy.get_model("fast").await.unwrap_err();
    assert_eq!(error.code(), Code::Unavailable, "{error}");
}

#[test]
fn invalid_api_key_is_refused_up_front() {
    let error = Client::builder("127.0.0.1:1")
        .api_key("bad\nkey")
        .connect_lazy()
        .unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument, "{error}");
}

/// A bare HTTP/2 server answering Health.Check with SERVING, after resetting
/// the first `refuse` streams with `reason`; returns its port and the count
/// of streams it saw.
async fn h2_server(
    refuse: usize,
    reason: h2::Reason,
) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let mut conn = h2::server::handshake(socket).await.unwrap();
        while let Some(Ok((_request, mut respond))) = conn.accept().await {
            if counter.fetch_add(1, Ordering::SeqCst) < refuse {
                respond.send_reset(reason);
                continue;
            }
            let head = http::Response::builder()
                .header("content-type", "application/grpc")
                .body(())
                .unwrap();
            let mut body = respond.send_response(head, false).unwrap();
            // HealthCheckResponse{status: SERVING}, length-prefixed.
            let message = bytes::Bytes::from_static(&[0, 0, 0, 0, 2, 0x08, 0x01]);
            body.send_data(message, false).unwrap();
            let mut trailers = http::HeaderMap::new();
            trailers.insert("grpc-status", "0".parse().unwrap());
            body.send_trailers(trailers).unwrap();
        }
    });
    (port, seen)
}

#[tokio::test]
async fn a_call_refused_unprocessed_is_sent_once_more() {
    use std::sync::atomic::Ordering;
    let (port, seen) = h2_server(1, h2::Reason::REFUSED_STREAM).await;
    let client = Client::connect(format!("127.0.0.1:{port}")).await.unwrap();
    let status = client.health("").await.unwrap();
    assert_eq!(status, llmgateway_client::ServingStatus::Serving);
    assert_eq!(seen.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_second_refusal_or_another_reset_is_the_callers_error() {
    use std::sync::atomic::Ordering;
    let (port, seen) = h2_server(2, h2::Reason::REFUSED_STREAM).await;
    let client = Client::connect(format!("127.0.0.1:{port}")).await.unwrap();
    let error = client.health("").await.unwrap_err();
    assert_eq!(error.code(), Code::Unavailable, "{error}");
    assert_eq!(seen.load(Ordering::SeqCst), 2);

    // A reset that does not say "unprocessed": the call may have run.
    let (port, seen) = h2_server(1, h2::Reason::INTERNAL_ERROR).await;
    let client = Client::connect(format!("127.0.0.1:{port}")).await.unwrap();
    client.health("").await.unwrap_err();
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}
