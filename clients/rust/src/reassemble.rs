//! Rebuilding the final [`ChatResponse`] from StreamChat events, and the
//! [`CompleteResponse`] from StreamComplete events, exactly as the contract
//! defines them (StreamChatResponse in chat.proto, StreamCompleteResponse in
//! completions.proto).

use std::borrow::Borrow;
use std::collections::BTreeMap;

use llmgateway_proto::v1::{
    part, stream_chat_response::Event, stream_complete_response, ChatResponse, CompleteResponse,
    CompletionChoice, Message, Part, Reasoning, Role, StreamChatResponse, StreamCompleteResponse,
    ToolCall,
};

/// Rebuilds the response from a stream's events, fed in order with
/// [`push`](Accumulator::push):
///
/// - `start` sets the ids, model and provider;
/// - text, reasoning and tool-call deltas append to the part at their
///   `index`; `tool_call_end` replaces the call with the complete one;
/// - `usage` replaces the usage; `done` sets the finish reason, provider
///   finish reason, stop sequence and final usage;
/// - parts are ordered by index; unknown event kinds are ignored.
///
/// ```no_run
/// # async fn f(client: llmgateway_client::Client, input: llmgateway_client::v1::ChatInput)
/// #     -> Result<(), llmgateway_client::Error> {
/// use futures_util::StreamExt;
/// let mut events = client.stream(input);
/// let mut acc = llmgateway_client::Accumulator::new();
/// while let Some(event) = events.next().await {
///     let event = event?;
///     acc.push(&event);
/// }
/// let reply = acc.into_response();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Accumulator {
    response: ChatResponse,
    parts: BTreeMap<i32, Part>,
    done: bool,
}

impl Accumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one event.
    pub fn push(&mut self, event: &StreamChatResponse) {
        let Some(event) = &event.event else {
            return; // an event kind newer than this client
        };
        let r = &mut self.response;
        match event {
            Event::Start(s) => {
                r.id.clone_from(&s.id);
                r.model.clone_from(&s.model);
                r.provider.clone_from(&s.provider);
                r.request_id.clone_from(&s.request_id);
                r.upstream_request_id.clone_from(&s.upstream_request_id);
            }
            Event::TextDelta(d) => {
                let part = self.parts.entry(d.index).or_default();
                match &mut part.kind {
                    Some(part::Kind::Text(text)) => text.push_str(&d.text),
                    kind => *kind = Some(part::Kind::Text(d.text.clone())),
                }
                part.thought_signature.push_str(&d.thought_signature);
            }
            Event::ReasoningDelta(d) => {
                let part = self.parts.entry(d.index).or_default();
                if !matches!(part.kind, Some(part::Kind::Reasoning(_))) {
                    part.kind = Some(part::Kind::Reasoning(Reasoning::default()));
                }
                if let Some(part::Kind::Reasoning(reasoning)) = &mut part.kind {
                    reasoning.text.push_str(&d.text);
                    reasoning.signature.push_str(&d.signature);
                    reasoning.redacted_data.extend_from_slice(&d.redacted_data);
                    if !d.id.is_empty() {
                        reasoning.id.clone_from(&d.id);
                    }
                    if !d.provider_type.is_empty() {
                        reasoning.provider_type.clone_from(&d.provider_type);
                    }
                }
            }
            Event::ToolCallStart(d) => {
                let part = self.parts.entry(d.index).or_default();
                part.kind = Some(part::Kind::ToolCall(ToolCall {
                    id: d.id.clone(),
                    name: d.name.clone(),
                    arguments_json: String::new(),
                }));
                part.thought_signature.push_str(&d.thought_signature);
            }
            Event::ToolCallDelta(d) => {
                let part = self.parts.entry(d.index).or_default();
                match &mut part.kind {
                    Some(part::Kind::ToolCall(call)) => {
                        call.arguments_json.push_str(&d.arguments_fragment)
                    }
                    kind => {
                        *kind = Some(part::Kind::ToolCall(ToolCall {
                            arguments_json: d.arguments_fragment.clone(),
                            ..ToolCall::default()
                        }))
                    }
                }
            }
            Event::ToolCallEnd(d) => {
                let part = self.parts.entry(d.index).or_default();
                part.kind = Some(part::Kind::ToolCall(
                    d.tool_call.clone().unwrap_or_default(),
                ));
            }
            Event::Usage(u) => r.usage = u.usage,
            Event::Done(d) => {
                r.finish_reason = d.finish_reason;
                r.provider_finish_reason
                    .clone_from(&d.provider_finish_reason);
                r.stop_sequence.clone_from(&d.stop_sequence);
                if d.usage.is_some() {
                    r.usage = d.usage;
                }
                self.done = true;
            }
        }
    }

    /// Whether the `done` event arrived (a complete stream).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The response rebuilt so far.
    pub fn response(&self) -> ChatResponse {
        self.clone().into_response()
    }

    /// The response rebuilt so far, consuming the accumulator.
    pub fn into_response(self) -> ChatResponse {
        let mut response = self.response;
        response.message = Some(Message {
            role: Role::Assistant.into(),
            parts: self.parts.into_values().collect(), // ordered by index
            name: String::new(),
        });
        response
    }
}

/// Rebuilds the response from a complete list of events (owned or borrowed);
/// see [`Accumulator`] for the rules.
pub fn reassemble<E: Borrow<StreamChatResponse>>(
    events: impl IntoIterator<Item = E>,
) -> ChatResponse {
    let mut acc = Accumulator::new();
    for event in events {
        acc.push(event.borrow());
    }
    acc.into_response()
}

/// Rebuilds a [`CompleteResponse`] from a completion stream's events, fed in
/// order with [`push`](CompletionAccumulator::push):
///
/// - `start` sets the ids, model and provider;
/// - `delta` appends its text and log probabilities to the choice at its
///   `index`;
/// - `choice_done` sets that choice's finish reason and provider finish
///   reason;
/// - `done` sets the usage;
/// - choices are ordered by index; unknown event kinds are ignored.
///
/// ```no_run
/// # async fn f(client: llmgateway_client::Client, input: llmgateway_client::v1::CompletionInput)
/// #     -> Result<(), llmgateway_client::Error> {
/// use futures_util::StreamExt;
/// use llmgateway_client::v1::stream_complete_response::Event;
/// let mut events = client.stream_complete(input);
/// let mut acc = llmgateway_client::CompletionAccumulator::new();
/// while let Some(event) = events.next().await {
///     let event = event?;
///     if let Some(Event::Delta(d)) = &event.event {
///         print!("[{}] {}", d.index, d.text);
///     }
///     acc.push(&event);
/// }
/// let reply = acc.into_response();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct CompletionAccumulator {
    response: CompleteResponse,
    choices: BTreeMap<i32, CompletionChoice>,
    done: bool,
}

impl CompletionAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one event.
    pub fn push(&mut self, event: &StreamCompleteResponse) {
        use stream_complete_response::Event;
        let Some(event) = &event.event else {
            return; // an event kind newer than this client
        };
        let r = &mut self.response;
        match event {
            Event::Start(s) => {
                r.id.clone_from(&s.id);
                r.model.clone_from(&s.model);
                r.provider.clone_from(&s.provider);
                r.request_id.clone_from(&s.request_id);
                r.upstream_request_id.clone_from(&s.upstream_request_id);
            }
            Event::Delta(d) => {
                let choice = self.choice(d.index);
                choice.text.push_str(&d.text);
                choice.logprobs.extend_from_slice(&d.logprobs);
            }
            Event::ChoiceDone(d) => {
                let choice = self.choice(d.index);
                choice.finish_reason = d.finish_reason;
                choice
                    .provider_finish_reason
                    .clone_from(&d.provider_finish_reason);
            }
            Event::Done(d) => {
                r.usage = d.usage;
                self.done = true;
            }
        }
    }

    fn choice(&mut self, index: i32) -> &mut CompletionChoice {
        self.choices
            .entry(index)
            .or_insert_with(|| CompletionChoice {
                index,
                ..CompletionChoice::default()
            })
    }

    /// Whether the `done` event arrived (a complete stream).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The response rebuilt so far.
    pub fn response(&self) -> CompleteResponse {
        self.clone().into_response()
    }

    /// The response rebuilt so far, consuming the accumulator.
    pub fn into_response(self) -> CompleteResponse {
        let mut response = self.response;
        response.choices = self.choices.into_values().collect(); // ordered by index
        response
    }
}

/// Rebuilds the [`CompleteResponse`] from a complete list of completion
/// events (owned or borrowed); see [`CompletionAccumulator`] for the rules.
pub fn reassemble_completion<E: Borrow<StreamCompleteResponse>>(
    events: impl IntoIterator<Item = E>,
) -> CompleteResponse {
    let mut acc = CompletionAccumulator::new();
    for event in events {
        acc.push(event.borrow());
    }
    acc.into_response()
}
