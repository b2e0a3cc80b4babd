//! Chat and stream against a local gateway (`make run`):
//!
//!     cargo run --example chat                      # 127.0.0.1:50051
//!     cargo run --example chat -- 127.0.0.1:50052   # another address
//!
//! LLMGATEWAY_API_KEY, when set, is sent as the API key.

use std::io::Write;

use futures_util::StreamExt;
use llmgateway_client::v1::{stream_chat_response::Event, ChatInput};
use llmgateway_client::{text, user_message, Accumulator, Client};

#[tokio::main]
async fn main() -> Result<(), llmgateway_client::Error> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:50051".into());
    let mut builder = Client::builder(address);
    if let Ok(key) = std::env::var("LLMGATEWAY_API_KEY") {
        builder = builder.api_key(key);
    }
    let client = builder.connect().await?;

    // One reply.
    let input = ChatInput {
        model: "echo".into(),
        messages: vec![user_message("Hello from the Rust client")],
        ..Default::default()
    };
    let reply = client.chat(input).await?;
    println!(
        "chat:   {} ({:?}, request id {})",
        text(&reply),
        reply.finish_reason(),
        reply.request_id
    );

    // The same, streamed: print the text as it arrives, then the rebuilt reply.
    let input = ChatInput {
        model: "echo".into(),
        messages: vec![user_message("one two three four five six")],
        ..Default::default()
    };
    let mut events = client.stream(input);
    let mut acc = Accumulator::new();
    print!("stream:");
    while let Some(event) = events.next().await {
        let event = event?;
        if let Some(Event::TextDelta(delta)) = &event.event {
            print!("{}", delta.text);
            std::io::stdout().flush().ok();
        }
        acc.push(&event);
    }
    let reply = acc.into_response();
    println!(
        "\nrebuilt: {:?}, usage {:?}",
        reply.finish_reason(),
        reply.usage.unwrap_or_default()
    );
    Ok(())
}
