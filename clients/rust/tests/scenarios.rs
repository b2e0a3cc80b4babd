//! The cross-language client scenarios (clients/TESTING.md), against the live
//! gateway at LLMGATEWAY_ADDRESS (`python -m tests.support.client_env`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use llmgateway_client::v1::{
    self, count_tokens_response, part, stream_chat_response::Event,
    stream_complete_response::Event as CompletionEvent, tool, tool_choice, ChatInput,
    CompletionInput, FinishReason, FunctionTool, GenerationConfig, ListModelsRequest,
    ProviderOptions, StreamChatResponse, StreamCompleteResponse, Tool, ToolCall, ToolChoice, Usage,
};
use llmgateway_client::{
    batch_chat_request, embed_texts, reassemble, reassemble_completion, text, user_message, Call,
    CancellationToken, Client, Code, Error, ServingStatus,
};

/// A client of the live environment; panics (never skips) without one.
async fn client() -> Client {
    client_of("LLMGATEWAY_ADDRESS").await
}

/// A client of the gateway whose address is in `variable`.
async fn client_of(variable: &str) -> Client {
    let address = std::env::var(variable)
        .unwrap_or_else(|_| panic!("{variable} must be set (python -m tests.support.client_env)"));
    Client::builder(address)
        .api_key("test-key")
        .timeout(Duration::from_secs(10))
        .connect()
        .await
        .expect("connect")
}

fn input(model: &str, text: &str) -> ChatInput {
    ChatInput {
        model: model.into(),
        messages: vec![user_message(text)],
        ..Default::default()
    }
}

/// `input` with provider options for the echo provider.
fn echo_input(text: &str, echo_options: &str) -> ChatInput {
    ChatInput {
        provider_options: Some(ProviderOptions {
            json_by_provider: HashMap::from([("echo".into(), echo_options.into())]),
        }),
        ..input("echo", text)
    }
}

fn function(name: &str) -> Tool {
    Tool {
        kind: Some(tool::Kind::Function(FunctionTool {
            name: name.into(),
            ..Default::default()
        })),
    }
}

fn tool_calls(response: &v1::ChatResponse) -> Vec<(String, String)> {
    let parts = response.message.iter().flat_map(|m| &m.parts);
    parts
        .filter_map(|p| match &p.kind {
            Some(part::Kind::ToolCall(ToolCall {
                name,
                arguments_json,
                ..
            })) => Some((name.clone(), arguments_json.clone())),
            _ => None,
        })
        .collect()
}

fn kind(event: &StreamChatResponse) -> &'static str {
    match event.event {
        Some(Event::Start(_)) => "start",
        Some(Event::Done(_)) => "done",
        Some(_) => "delta",
        None => "unknown",
    }
}

async fn expect_error<T: std::fmt::Debug>(
    result: impl std::future::Future<Output = Result<T, Error>>,
) -> Error {
    result.await.expect_err("the call should fail")
}

// 1.
#[tokio::test]
async fn unary_chat() {
    let reply = client()
        .await
        .chat(input("fast", "hello from rust"))
        .await
        .unwrap();
    assert_eq!(text(&reply), "hello from rust");
    assert_eq!(reply.finish_reason(), FinishReason::Stop);
    assert_eq!(reply.provider, "echo");
    assert!(!reply.request_id.is_empty());
    assert_eq!(reply.usage.unwrap().total_tokens, 6);
}

// 2a.
#[tokio::test]
async fn stream_reassembled_echo_tools() {
    let client = client().await;
    let input = ChatInput {
        tools: vec![function("get_weather"), function("get_time")],
        tool_choice: Some(ToolChoice {
            choice: Some(tool_choice::Choice::Mode(
                tool_choice::Mode::Required.into(),
            )),
            parallel_tool_calls: None,
        }),
        ..input("echo", "stream test")
    };
    let events: Vec<StreamChatResponse> = client.stream(input.clone()).try_collect().await.unwrap();
    assert_eq!(kind(&events[0]), "start");
    assert_eq!(kind(events.last().unwrap()), "done");
    assert_eq!(events.iter().filter(|e| kind(e) == "done").count(), 1);

    let mut rebuilt = reassemble(&events);
    let args = r#"{"text":"stream test"}"#.to_string();
    assert_eq!(
        tool_calls(&rebuilt),
        [
            ("get_weather".to_string(), args.clone()),
            ("get_time".to_string(), args)
        ]
    );
    assert_eq!(rebuilt.finish_reason(), FinishReason::ToolCalls);

    let mut unary = client.chat(input).await.unwrap();
    for response in [&mut rebuilt, &mut unary] {
        response.request_id.clear();
        response.upstream_request_id.clear();
    }
    assert_eq!(rebuilt, unary);
}

// 2b.
#[tokio::test]
async fn stream_reassembled_fake_fragments() {
    let events: Vec<StreamChatResponse> = client()
        .await
        .stream(input("smart", "weather?"))
        .try_collect()
        .await
        .unwrap();
    let fragments = events
        .iter()
        .filter(|e| matches!(e.event, Some(Event::ToolCallDelta(_))))
        .count();
    assert!(
        fragments >= 2,
        "expected argument fragments, got {fragments}"
    );

    let rebuilt = reassemble(events);
    assert_eq!(
        tool_calls(&rebuilt),
        [
            (
                "get_weather".to_string(),
                r#"{"location": "Paris"}"#.to_string()
            ),
            ("get_time".to_string(), "{}".to_string()),
        ]
    );
    assert_eq!(rebuilt.finish_reason(), FinishReason::ToolCalls);
    let Usage {
        input_tokens,
        output_tokens,
        ..
    } = rebuilt.usage.unwrap();
    assert_eq!((input_tokens, output_tokens), (9, 12));
    assert_eq!(rebuilt.provider, "fake");
}

// 3.
#[tokio::test]
async fn embed() {
    let reply = client()
        .await
        .embed(embed_texts("echo/echo-embed", ["a", "b", "a"]))
        .await
        .unwrap();
    let vectors: Vec<&Vec<f32>> = reply.embeddings.iter().map(|e| &e.values).collect();
    assert_eq!(vectors.len(), 3);
    assert!(vectors.iter().all(|v| v.len() == 16));
    assert_eq!(vectors[0], vectors[2]);
    assert_ne!(vectors[0], vectors[1]);
}

// 4.
#[tokio::test]
async fn list_models_across_pages() {
    let client = client().await;
    let one_per_page = ListModelsRequest {
        page_size: 1,
        ..Default::default()
    };
    let names: Vec<String> = client
        .list_models(one_per_page.clone())
        .map_ok(|m| m.name)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        names,
        [
            "echo/echo",
            "echo/echo-embed",
            "fake/gpt-4.1-mini",
            "fake/text-embedding-3-small"
        ]
    );
    let pages = client
        .list_model_pages(one_per_page)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 4);

    let model = client.get_model("fast").await.unwrap();
    assert_eq!(model.name, "echo/echo");
    assert!(model.aliases.contains(&"fast".to_string()));
}

// 5.
#[tokio::test]
async fn health() {
    let client = client().await;
    assert_eq!(client.health("").await.unwrap(), ServingStatus::Serving);
    assert_eq!(
        client.health("readiness").await.unwrap(),
        ServingStatus::Serving
    );
}

// 6.
#[tokio::test]
async fn not_found_with_details() {
    let error = expect_error(client().await.chat(input("no-such-model", "hi"))).await;
    assert_eq!(error.code(), Code::NotFound, "{error}");
    assert_eq!(error.reason(), "MODEL_NOT_FOUND");
    assert_eq!(error.error_reason(), Some(v1::ErrorReason::ModelNotFound));
    assert_eq!(error.domain(), "llmgateway");
    assert_eq!(
        error.metadata().get("model").map(String::as_str),
        Some("no-such-model")
    );
    assert!(!error.request_id().is_empty());
}

// 7.
#[tokio::test]
async fn retry_delay() {
    let error = expect_error(
        client()
            .await
            .chat(echo_input("hi", r#"{"fail": "rate_limited"}"#)),
    )
    .await;
    assert_eq!(error.code(), Code::ResourceExhausted, "{error}");
    assert_eq!(error.reason(), "UPSTREAM_RATE_LIMITED");
    assert_eq!(error.retry_delay(), Some(Duration::from_secs(2)));
}

// 8.
#[tokio::test]
async fn deadline_exceeded() {
    let client = client().await;
    let started = Instant::now();
    let call =
        Call::new(echo_input("hi", r#"{"delay_ms": 5000}"#)).timeout(Duration::from_millis(200));
    let error = expect_error(client.chat(call)).await;
    assert_eq!(error.code(), Code::DeadlineExceeded, "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

// 9.
#[tokio::test]
async fn cancel_mid_stream() {
    let client = client().await;
    let words = vec!["word"; 50].join(" ");
    let token = CancellationToken::new();
    let call = Call::new(echo_input(&words, r#"{"chunk_delay_ms": 100}"#)).cancel_on(token.clone());
    let mut events = client.stream(call);
    for _ in 0..3 {
        events
            .next()
            .await
            .expect("an event")
            .expect("not an error");
    }
    let cancelled = Instant::now();
    token.cancel();
    let error = events
        .next()
        .await
        .expect("the cancellation")
        .expect_err("an error");
    assert_eq!(error.code(), Code::Cancelled, "{error}");
    assert!(events.next().await.is_none());
    assert!(
        cancelled.elapsed() < Duration::from_secs(2),
        "took {:?}",
        cancelled.elapsed()
    );

    let reply = client.chat(input("echo", "still works")).await.unwrap();
    assert_eq!(text(&reply), "still works");
}

// 10.
#[tokio::test]
async fn invalid_request() {
    let no_messages = ChatInput {
        model: "echo".into(),
        ..Default::default()
    };
    let error = expect_error(client().await.chat(no_messages)).await;
    assert_eq!(error.code(), Code::InvalidArgument, "{error}");
    let violations = error.field_violations();
    assert!(
        violations.iter().any(|v| v.field == "input.messages"),
        "{violations:?}"
    );
}

// 11.
#[tokio::test]
async fn count_tokens() {
    let count = client()
        .await
        .count_tokens(input("echo", "count these four words"))
        .await
        .unwrap();
    assert_eq!(count.input_tokens, 4);
    assert_eq!(count.method(), count_tokens_response::Method::Builtin);
    assert_eq!(count.provider, "echo");
    assert_eq!(count.model, "echo");
}

/// (index, text, finish reason) of each choice.
fn choices(response: &v1::CompleteResponse) -> Vec<(i32, &str, FinishReason)> {
    let choices = response.choices.iter();
    choices
        .map(|c| (c.index, c.text.as_str(), c.finish_reason()))
        .collect()
}

// 12.
#[tokio::test]
async fn text_completion() {
    let client = client().await;
    let input = CompletionInput {
        model: "echo".into(),
        prompts: vec!["one two".into(), "three four five".into()],
        echo: true,
        generation: Some(GenerationConfig {
            max_output_tokens: Some(2),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut unary = client.complete(input.clone()).await.unwrap();
    let expected = [
        (0, "one twoone two", FinishReason::Stop),
        (1, "three four fivethree four", FinishReason::Length),
    ];
    assert_eq!(choices(&unary), expected);
    let usage = unary.usage.unwrap();
    assert_eq!((usage.input_tokens, usage.output_tokens), (5, 4));
    assert_eq!(unary.provider, "echo");

    let events: Vec<StreamCompleteResponse> =
        client.stream_complete(input).try_collect().await.unwrap();
    assert!(matches!(events[0].event, Some(CompletionEvent::Start(_))));
    let last = &events.last().unwrap().event;
    assert!(matches!(last, Some(CompletionEvent::Done(_))));
    let done = events
        .iter()
        .filter(|e| matches!(e.event, Some(CompletionEvent::Done(_))))
        .count();
    assert_eq!(done, 1);

    let mut rebuilt = reassemble_completion(&events);
    assert_eq!(choices(&rebuilt), expected);
    assert_eq!(rebuilt.usage, Some(usage));
    for response in [&mut rebuilt, &mut unary] {
        response.request_id.clear();
        response.upstream_request_id.clear();
    }
    assert_eq!(rebuilt, unary);
}

// 14.
#[tokio::test]
async fn connection_rotation() {
    let client = client_of("LLMGATEWAY_ROTATING_ADDRESS").await;
    let words: Vec<String> = (0..50).map(|i| format!("w{i}")).collect();
    for n in 1..=2 {
        // 40 events, 10 ms apart: past the GOAWAY; dropping the stream
        // then cancels the call, the connection's last.
        let events: Vec<StreamChatResponse> = client
            .stream(echo_input(&words.join(" "), r#"{"chunk_delay_ms": 10}"#))
            .take(40)
            .map(|event| event.unwrap_or_else(|e| panic!("rotation {n}: stream: {e}")))
            .collect()
            .await;
        assert_eq!(events.len(), 40, "rotation {n}");
        let text_sent = format!("after rotation {n}");
        let reply = client
            .chat(input("echo", &text_sent))
            .await
            .unwrap_or_else(|e| panic!("rotation {n}: chat: {e}"));
        assert_eq!(text(&reply), text_sent);
    }
}

// 13.
#[tokio::test]
async fn batch() {
    let request = batch_chat_request(
        [
            ("a", input("echo", "alpha")),
            ("b", input("no-such-model", "beta")),
            ("c", input("fast", "gamma")),
        ],
        2,
    );
    let results: Vec<_> = client()
        .await
        .batch_chat(request)
        .try_collect() // the call itself ends OK
        .await
        .unwrap();
    let mut by_id: HashMap<String, Result<v1::ChatResponse, Error>> =
        results.into_iter().map(|r| (r.id, r.result)).collect();
    assert_eq!(by_id.len(), 3, "one result per id: {:?}", by_id.keys());

    for (id, expected) in [("a", "alpha"), ("c", "gamma")] {
        let reply = by_id.remove(id).unwrap().unwrap();
        assert_eq!(text(&reply), expected);
    }
    let error = by_id.remove("b").unwrap().unwrap_err();
    assert_eq!(error.code(), Code::NotFound, "{error}");
    assert_eq!(error.code() as i32, 5);
    assert_eq!(error.reason(), "MODEL_NOT_FOUND");
    assert_eq!(error.error_reason(), Some(v1::ErrorReason::ModelNotFound));
    assert_eq!(
        error.metadata().get("model").map(String::as_str),
        Some("no-such-model")
    );
    // The item's request id: the call's, then the item's index.
    assert!(
        error.request_id().len() > 2 && error.request_id().ends_with(".1"),
        "{}",
        error.request_id()
    );
}

// Beyond TESTING.md: the completion stream fails like the chat stream, with
// one typed error (also past its deadline), then ends.
#[tokio::test]
async fn completion_stream_errors() {
    let client = client().await;
    let completion = |model: &str, echo_options: &str| CompletionInput {
        model: model.into(),
        prompts: vec![vec!["word"; 50].join(" ")],
        provider_options: Some(ProviderOptions {
            json_by_provider: HashMap::from([("echo".into(), echo_options.into())]),
        }),
        ..Default::default()
    };

    let mut events = client.stream_complete(completion("no-such-model", "{}"));
    let error = events.next().await.unwrap().expect_err("an error");
    assert_eq!(error.code(), Code::NotFound, "{error}");
    assert_eq!(error.reason(), "MODEL_NOT_FOUND");
    assert!(events.next().await.is_none());

    let started = Instant::now();
    let slow = completion("echo", r#"{"chunk_delay_ms": 100}"#);
    let mut events = client.stream_complete(Call::new(slow).timeout(Duration::from_millis(300)));
    let error = loop {
        match events.next().await.expect("an event or the error") {
            Ok(_) => continue,
            Err(error) => break error,
        }
    };
    assert_eq!(error.code(), Code::DeadlineExceeded, "{error}");
    assert!(events.next().await.is_none());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

// Beyond TESTING.md: the request id of a Call reaches the gateway and comes
// back, in replies, stream events and errors.
#[tokio::test]
async fn request_id_pass_through() {
    let client = client().await;
    let reply = client
        .chat(Call::new(input("fast", "hi")).request_id("rust-req-1"))
        .await;
    assert_eq!(reply.unwrap().request_id, "rust-req-1");
    let events = client.stream(Call::new(input("fast", "hi")).request_id("rust-req-2"));
    let events: Vec<StreamChatResponse> = events.try_collect().await.unwrap();
    assert_eq!(reassemble(&events).request_id, "rust-req-2");
    let call = Call::new(input("no-such-model", "hi")).request_id("rust-req-3");
    assert_eq!(
        client.chat(call).await.unwrap_err().request_id(),
        "rust-req-3"
    );
}
