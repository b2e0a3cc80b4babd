//! Builders for the most common messages; everything else is built from the
//! generated types directly.

use llmgateway_proto::v1::{
    embed_input, part, BatchChatItem, BatchChatRequest, ChatInput, ChatResponse, EmbedInput,
    EmbedRequest, Message, Part, Role,
};

/// A user message of one text part.
pub fn user_message(text: impl Into<String>) -> Message {
    Message {
        role: Role::User.into(),
        parts: vec![Part {
            kind: Some(part::Kind::Text(text.into())),
            ..Part::default()
        }],
        name: String::new(),
    }
}

/// The text of a reply: its text parts, concatenated.
pub fn text(response: &ChatResponse) -> String {
    let parts = response.message.iter().flat_map(|m| &m.parts);
    parts
        .filter_map(|p| match &p.kind {
            Some(part::Kind::Text(text)) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// An embedding request for `model` with one text input per item of `texts`.
pub fn embed_texts<S: Into<String>>(
    model: impl Into<String>,
    texts: impl IntoIterator<Item = S>,
) -> EmbedRequest {
    EmbedRequest {
        model: model.into(),
        inputs: texts
            .into_iter()
            .map(|t| EmbedInput {
                content: Some(embed_input::Content::Text(t.into())),
            })
            .collect(),
        ..EmbedRequest::default()
    }
}

/// A batch request of one item per `(id, input)` pair, running at most
/// `max_concurrency` items at a time (0 means the gateway's default, 8).
/// Ids must be unique within the batch; each result carries its item's id.
pub fn batch_chat_request<S: Into<String>>(
    items: impl IntoIterator<Item = (S, ChatInput)>,
    max_concurrency: i32,
) -> BatchChatRequest {
    BatchChatRequest {
        items: items
            .into_iter()
            .map(|(id, input)| BatchChatItem {
                id: id.into(),
                input: Some(input),
            })
            .collect(),
        max_concurrency,
        metadata: None,
    }
}
