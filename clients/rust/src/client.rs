//! [`Client`] (built by [`ClientBuilder`]) and the per-call options of
//! [`Call`].

use std::fmt;
use std::future::Future;
use std::time::Duration;

use futures_util::{stream, Stream, StreamExt, TryStreamExt};
use llmgateway_proto::v1::{
    batch_chat_response, chat_service_client::ChatServiceClient,
    completion_service_client::CompletionServiceClient,
    embedding_service_client::EmbeddingServiceClient, model_service_client::ModelServiceClient,
    BatchChatRequest, ChatInput, ChatRequest, ChatResponse, CompleteRequest, CompleteResponse,
    CompletionInput, CountTokensRequest, CountTokensResponse, EmbedRequest, EmbedResponse,
    GetModelRequest, ListModelsRequest, ListModelsResponse, Model, RequestMetadata,
    StreamChatRequest, StreamChatResponse, StreamCompleteRequest, StreamCompleteResponse,
};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tonic::metadata::AsciiMetadataValue;
use tonic::service::{interceptor::InterceptedService, Interceptor};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};
use tonic_health::pb::{
    health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
};

use crate::Error;

/// The deadline of a call that sets none ([`Call::timeout`]), unless
/// [`ClientBuilder::timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// The channel every call goes through: the connection plus the API key.
/// Give it to the generated clients of the calls this crate does not wrap
/// (LocalModelService, ...); see [`Client::channel`].
pub type AuthChannel = InterceptedService<Channel, BearerAuth>;

/// The interceptor that sends the API key as `authorization: Bearer <key>`.
#[derive(Clone)]
pub struct BearerAuth {
    header: Option<AsciiMetadataValue>,
}

impl Interceptor for BearerAuth {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(header) = &self.header {
            request
                .metadata_mut()
                .insert("authorization", header.clone());
        }
        Ok(request)
    }
}

impl fmt::Debug for BearerAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = if self.header.is_some() {
            "<redacted>"
        } else {
            "<none>"
        };
        f.debug_struct("BearerAuth").field("key", &key).finish()
    }
}

type ConfigureEndpoint = Box<dyn FnOnce(Endpoint) -> Endpoint + Send>;

/// Configures and creates a [`Client`]; from [`Client::builder`].
pub struct ClientBuilder {
    address: String,
    api_key: Option<String>,
    timeout: Option<Duration>,
    #[cfg(feature = "tls")]
    tls: Option<tonic::transport::ClientTlsConfig>,
    configure: Option<ConfigureEndpoint>,
}

impl ClientBuilder {
    /// Sends `authorization: Bearer <key>` with every call, over TLS and
    /// plaintext alike (plaintext is for loopback or a trusted mesh).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The deadline of calls that set none; the default is
    /// [`DEFAULT_TIMEOUT`]. A stream's deadline covers the whole stream.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// No default deadline: calls without [`Call::timeout`] may run forever.
    pub fn without_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }

    /// Connects over TLS, verifying the server with the system's root
    /// certificates and the address's host name. An `https://` address
    /// implies it.
    #[cfg(feature = "tls")]
    pub fn tls(self) -> Self {
        self.tls_config(tonic::transport::ClientTlsConfig::new().with_enabled_roots())
    }

    /// Connects over TLS with this configuration (custom CA, client
    /// certificate, domain name).
    #[cfg(feature = "tls")]
    pub fn tls_config(mut self, config: tonic::transport::ClientTlsConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// Adjusts the tonic [`Endpoint`] before connecting: keep-alive, message
    /// window sizes, connect timeout, user agent, ...
    pub fn endpoint(
        mut self,
        configure: impl FnOnce(Endpoint) -> Endpoint + Send + 'static,
    ) -> Self {
        self.configure = Some(Box::new(configure));
        self
    }

    /// Connects now; fails with UNAVAILABLE when the gateway cannot be
    /// reached.
    pub async fn connect(self) -> Result<Client, Error> {
        let (endpoint, auth, timeout) = self.prepare()?;
        let channel = endpoint.connect().await?;
        Ok(Client::new(channel, auth, timeout))
    }

    /// Connects on the first call (and reconnects as needed); fails only on
    /// an invalid address or API key.
    pub fn connect_lazy(self) -> Result<Client, Error> {
        let (endpoint, auth, timeout) = self.prepare()?;
        Ok(Client::new(endpoint.connect_lazy(), auth, timeout))
    }

    fn prepare(self) -> Result<(Endpoint, BearerAuth, Option<Duration>), Error> {
        #[cfg(feature = "tls")]
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        #[cfg(not(feature = "tls"))]
        let scheme = "http";
        let uri = if self.address.contains("://") {
            self.address
        } else {
            format!("{scheme}://{}", self.address)
        };
        let invalid = |what: &str, e: &dyn fmt::Display| {
            Error::local(Code::InvalidArgument, format!("invalid {what}: {e}"))
        };
        #[allow(unused_mut)]
        let mut endpoint = Endpoint::from_shared(uri).map_err(|e| invalid("address", &e))?;
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls {
            endpoint = endpoint
                .tls_config(tls)
                .map_err(|e| invalid("TLS configuration", &e))?;
        }
        if let Some(configure) = self.configure {
            endpoint = configure(endpoint);
        }
        let header = match self.api_key {
            Some(key) => Some(
                format!("Bearer {key}")
                    .parse::<AsciiMetadataValue>()
                    .map_err(|e| invalid("API key", &e))?,
            ),
            None => None,
        };
        Ok((endpoint, BearerAuth { header }, self.timeout))
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("address", &self.address)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A client of the gateway over one HTTP/2 connection. Cheap to clone (the
/// clones share the connection) and safe to use from many tasks.
///
/// Every call takes its request as `impl Into<Call<_>>`: the bare request
/// (a [`ChatInput`], an [`EmbedRequest`], ...) or a [`Call`] that adds a
/// deadline, a request id or a cancellation token. Failures are [`Error`]s.
#[derive(Clone)]
pub struct Client {
    chat: ChatServiceClient<AuthChannel>,
    completions: CompletionServiceClient<AuthChannel>,
    embeddings: EmbeddingServiceClient<AuthChannel>,
    models: ModelServiceClient<AuthChannel>,
    health: HealthClient<AuthChannel>,
    channel: AuthChannel,
    timeout: Option<Duration>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects, plaintext and without an API key, to `address`
    /// ("host:port" or a URI such as "http://host:port").
    pub async fn connect(address: impl Into<String>) -> Result<Client, Error> {
        Client::builder(address).connect().await
    }

    /// Configures a client for `address` ("host:port" or a URI): API key,
    /// TLS, default deadline.
    pub fn builder(address: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            address: address.into(),
            api_key: None,
            timeout: Some(DEFAULT_TIMEOUT),
            #[cfg(feature = "tls")]
            tls: None,
            configure: None,
        }
    }

    fn new(channel: Channel, auth: BearerAuth, timeout: Option<Duration>) -> Client {
        let channel = InterceptedService::new(channel, auth);
        Client {
            chat: ChatServiceClient::new(channel.clone()),
            completions: CompletionServiceClient::new(channel.clone()),
            embeddings: EmbeddingServiceClient::new(channel.clone()),
            models: ModelServiceClient::new(channel.clone()),
            health: HealthClient::new(channel.clone()),
            channel,
            timeout,
        }
    }

    /// The connection with the API key, for the generated clients of calls
    /// this crate does not wrap; `Error::from(status)` decodes their errors.
    /// The default deadline does not apply to them.
    ///
    /// ```no_run
    /// # fn f(client: llmgateway_client::Client) {
    /// use llmgateway_client::v1::local_model_service_client::LocalModelServiceClient;
    /// let local_models = LocalModelServiceClient::new(client.channel());
    /// # }
    /// ```
    pub fn channel(&self) -> AuthChannel {
        self.channel.clone()
    }

    /// Generates one assistant reply.
    pub async fn chat(&self, call: impl Into<Call<ChatInput>>) -> Result<ChatResponse, Error> {
        let call = call.into();
        let control = call.control(self.timeout);
        let request = ChatRequest {
            metadata: call.metadata(None),
            input: Some(call.body),
        };
        control
            .unary(
                &self.chat,
                request,
                |mut c, r| async move { c.chat(r).await },
            )
            .await
    }

    /// Generates one assistant reply as a stream of events, forwarded as the
    /// provider produces them; [`Accumulator`](crate::Accumulator) or
    /// [`reassemble`](crate::reassemble) rebuild the final [`ChatResponse`].
    ///
    /// Nothing is sent until the stream is first polled. A successful stream
    /// ends after its `done` event; a failure ends it with one `Err`.
    /// Dropping the stream cancels the call; so does cancelling the token
    /// of [`Call::cancel_on`], which ends the stream with a CANCELLED error.
    pub fn stream(
        &self,
        call: impl Into<Call<ChatInput>>,
    ) -> impl Stream<Item = Result<StreamChatResponse, Error>> + Send + Unpin + 'static {
        let call = call.into();
        let control = call.control(self.timeout);
        let request = StreamChatRequest {
            metadata: call.metadata(None),
            input: Some(call.body),
        };
        control.stream(self.chat.clone(), request, |mut c, r| async move {
            c.stream_chat(r).await
        })
    }

    /// Counts the input tokens of a chat request with the provider's own
    /// method (UNIMPLEMENTED where it has none).
    pub async fn count_tokens(
        &self,
        call: impl Into<Call<ChatInput>>,
    ) -> Result<CountTokensResponse, Error> {
        let call = call.into();
        let control = call.control(self.timeout);
        let request = CountTokensRequest {
            metadata: call.metadata(None),
            input: Some(call.body),
        };
        control
            .unary(&self.chat, request, |mut c, r| async move {
                c.count_tokens(r).await
            })
            .await
    }

    /// Runs many chat requests on the gateway, at most
    /// `max_concurrency` at a time ([`batch_chat_request`](crate::batch_chat_request)
    /// builds the request from ids and inputs), and yields each item's
    /// [`BatchResult`] as it finishes (not in request order).
    ///
    /// A failing item is an `Ok(BatchResult)` whose `result` is the item's
    /// [`Error`] (from its ItemError); the other items go on. An `Err`
    /// item is a failure of the whole call, and ends the stream. The
    /// [`Call`]'s request id, end user and labels override the request's
    /// metadata (shared by every item). Deadline, cancellation and dropping
    /// behave as for [`stream`](Client::stream); the deadline covers the
    /// whole batch.
    ///
    /// ```no_run
    /// # async fn f(client: llmgateway_client::Client, a: llmgateway_client::v1::ChatInput,
    /// #     b: llmgateway_client::v1::ChatInput) -> Result<(), llmgateway_client::Error> {
    /// use futures_util::StreamExt;
    /// use llmgateway_client::batch_chat_request;
    /// let mut results = client.batch_chat(batch_chat_request([("a", a), ("b", b)], 2));
    /// while let Some(item) = results.next().await {
    ///     let item = item?; // the whole call failed
    ///     match item.result {
    ///         Ok(reply) => println!("{}: {}", item.id, llmgateway_client::text(&reply)),
    ///         Err(e) => println!("{}: failed: {e}", item.id),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn batch_chat(
        &self,
        call: impl Into<Call<BatchChatRequest>>,
    ) -> impl Stream<Item = Result<BatchResult, Error>> + Send + Unpin + 'static {
        let mut call = call.into();
        let control = call.control(self.timeout);
        let base = call.body.metadata.take();
        call.body.metadata = call.metadata(base);
        control
            .stream(self.chat.clone(), call.body, |mut c, r| async move {
                c.batch_chat(r).await
            })
            .map_ok(|item| BatchResult {
                id: item.id,
                result: match item.result {
                    Some(batch_chat_response::Result::Response(reply)) => Ok(reply),
                    Some(batch_chat_response::Result::Error(error)) => Err(Error::from(error)),
                    None => Err(Error::local(
                        Code::Unknown,
                        "batch item result of a kind this client does not know",
                    )),
                },
            })
    }

    /// Generates a completion for each prompt (text completion, for base
    /// and code models); choices are ordered by prompt. UNIMPLEMENTED where
    /// the provider has none.
    pub async fn complete(
        &self,
        call: impl Into<Call<CompletionInput>>,
    ) -> Result<CompleteResponse, Error> {
        let call = call.into();
        let control = call.control(self.timeout);
        let request = CompleteRequest {
            metadata: call.metadata(None),
            input: Some(call.body),
        };
        control
            .unary(&self.completions, request, |mut c, r| async move {
                c.complete(r).await
            })
            .await
    }

    /// Generates completions as a stream of events;
    /// [`CompletionAccumulator`](crate::CompletionAccumulator) or
    /// [`reassemble_completion`](crate::reassemble_completion) rebuild the
    /// [`CompleteResponse`]. Deadline, cancellation, dropping and errors
    /// behave as for [`stream`](Client::stream).
    pub fn stream_complete(
        &self,
        call: impl Into<Call<CompletionInput>>,
    ) -> impl Stream<Item = Result<StreamCompleteResponse, Error>> + Send + Unpin + 'static {
        let call = call.into();
        let control = call.control(self.timeout);
        let request = StreamCompleteRequest {
            metadata: call.metadata(None),
            input: Some(call.body),
        };
        control.stream(self.completions.clone(), request, |mut c, r| async move {
            c.stream_complete(r).await
        })
    }

    /// Embeds a batch of inputs ([`embed_texts`](crate::embed_texts) builds
    /// the common request). The [`Call`]'s request id, end user and labels
    /// override the request's metadata.
    pub async fn embed(&self, call: impl Into<Call<EmbedRequest>>) -> Result<EmbedResponse, Error> {
        let mut call = call.into();
        let control = call.control(self.timeout);
        let base = call.body.metadata.take();
        call.body.metadata = call.metadata(base);
        control
            .unary(&self.embeddings, call.body, |mut c, r| async move {
                c.embed(r).await
            })
            .await
    }

    /// Every model, ordered by name, fetching the pages as the stream is
    /// polled. The request's `page_size` sets the page length and its
    /// `page_token` where to start (`ListModelsRequest::default()` for all
    /// of them). Each page gets its own deadline. Collect them with
    /// `futures_util::TryStreamExt::try_collect`.
    pub fn list_models(
        &self,
        call: impl Into<Call<ListModelsRequest>>,
    ) -> impl Stream<Item = Result<Model, Error>> + Send + Unpin + 'static {
        self.list_model_pages(call)
            .map_ok(|page| stream::iter(page.models.into_iter().map(Ok)))
            .try_flatten()
    }

    /// Like [`list_models`](Client::list_models), one item per page.
    pub fn list_model_pages(
        &self,
        call: impl Into<Call<ListModelsRequest>>,
    ) -> impl Stream<Item = Result<ListModelsResponse, Error>> + Send + Unpin + 'static {
        let default_timeout = self.timeout;
        let start = Some((self.models.clone(), call.into()));
        Box::pin(stream::unfold(start, move |state| async move {
            let (client, mut call) = state?;
            let control = call.control(default_timeout);
            let page = control.unary(&client, call.body.clone(), |mut c, r| async move {
                c.list_models(r).await
            });
            match page.await {
                Ok(page) if page.next_page_token.is_empty() => Some((Ok(page), None)),
                Ok(page) => {
                    call.body.page_token.clone_from(&page.next_page_token);
                    Some((Ok(page), Some((client, call))))
                }
                Err(error) => Some((Err(error), None)),
            }
        }))
    }

    /// One model, by name ("echo/echo") or alias ("fast").
    pub async fn get_model(&self, call: impl Into<Call<GetModelRequest>>) -> Result<Model, Error> {
        let call = call.into();
        let control = call.control(self.timeout);
        let reply = control
            .unary(&self.models, call.body, |mut c, r| async move {
                c.get_model(r).await
            })
            .await?;
        reply
            .model
            .ok_or_else(|| Error::local(Code::Internal, "GetModel replied without a model"))
    }

    /// The serving status of a service of the gateway (grpc.health.v1): ""
    /// for the whole server, "readiness" for readiness to take traffic.
    pub async fn health(
        &self,
        call: impl Into<Call<HealthCheckRequest>>,
    ) -> Result<ServingStatus, Error> {
        let call = call.into();
        let control = call.control(self.timeout);
        let reply = control
            .unary(&self.health, call.body, |mut c, r| async move {
                c.check(r).await
            })
            .await?;
        Ok(reply.status())
    }
}

/// The result of one item of [`Client::batch_chat`].
#[derive(Debug)]
pub struct BatchResult {
    /// The item's id (`BatchChatItem.id`).
    pub id: String,
    /// The item's reply, or its error: an [`Error`] built from the item's
    /// `ItemError` (code, message, reason, metadata, retry delay).
    pub result: Result<ChatResponse, Error>,
}

/// A request with per-call options: a deadline, attribution
/// (RequestMetadata) and a cancellation token. Every [`Client`] method
/// accepts the bare request too.
///
/// ```no_run
/// # async fn f(client: llmgateway_client::Client, input: llmgateway_client::v1::ChatInput)
/// #     -> Result<(), llmgateway_client::Error> {
/// use std::time::Duration;
/// use llmgateway_client::Call;
/// let reply = client
///     .chat(Call::new(input).timeout(Duration::from_secs(10)).request_id("req-42"))
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Call<T> {
    body: T,
    timeout: Option<Duration>,
    request_id: Option<String>,
    end_user_id: Option<String>,
    labels: Vec<(String, String)>,
    cancel: Option<CancellationToken>,
}

impl<T> Call<T> {
    /// The request, with the client's defaults.
    pub fn new(body: T) -> Self {
        Call {
            body,
            timeout: None,
            request_id: None,
            end_user_id: None,
            labels: Vec::new(),
            cancel: None,
        }
    }

    /// The call's deadline, counted from the moment the client method is
    /// called; overrides the client's default. For a stream it covers the
    /// whole stream.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The request id (RequestMetadata.request_id): the gateway echoes it in
    /// responses, logs and error details instead of generating one. At most
    /// 128 printable ASCII characters. Only for the requests that carry
    /// RequestMetadata (chat, stream, count tokens, batch chat, complete,
    /// stream complete, embed).
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// RequestMetadata.end_user_id, forwarded to providers that accept one.
    pub fn end_user(mut self, id: impl Into<String>) -> Self {
        self.end_user_id = Some(id.into());
        self
    }

    /// Adds an observability label (RequestMetadata.labels).
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.push((key.into(), value.into()));
        self
    }

    /// Cancels the call when `token` is cancelled: the call fails (a stream
    /// ends) with a CANCELLED [`Error`] and the gateway stops working on it.
    pub fn cancel_on(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    fn control(&self, default_timeout: Option<Duration>) -> Control {
        let timeout = self.timeout.or(default_timeout);
        Control {
            timeout,
            deadline: timeout.map(|t| Instant::now() + t),
            cancel: self.cancel.clone(),
        }
    }

    /// `base` with this call's attribution applied; `base` itself when the
    /// call sets none.
    fn metadata(&self, base: Option<RequestMetadata>) -> Option<RequestMetadata> {
        if self.request_id.is_none() && self.end_user_id.is_none() && self.labels.is_empty() {
            return base;
        }
        let mut metadata = base.unwrap_or_default();
        if let Some(id) = &self.request_id {
            metadata.request_id.clone_from(id);
        }
        if let Some(id) = &self.end_user_id {
            metadata.end_user_id.clone_from(id);
        }
        metadata.labels.extend(self.labels.iter().cloned());
        Some(metadata)
    }
}

impl<T> From<T> for Call<T> {
    fn from(body: T) -> Self {
        Call::new(body)
    }
}

impl From<&str> for Call<GetModelRequest> {
    /// A model name or alias.
    fn from(name: &str) -> Self {
        Call::from(name.to_owned())
    }
}

impl From<String> for Call<GetModelRequest> {
    /// A model name or alias.
    fn from(name: String) -> Self {
        Call::new(GetModelRequest { name })
    }
}

impl From<&str> for Call<HealthCheckRequest> {
    /// A service name ("" or "readiness").
    fn from(service: &str) -> Self {
        Call::from(service.to_owned())
    }
}

impl From<String> for Call<HealthCheckRequest> {
    /// A service name ("" or "readiness").
    fn from(service: String) -> Self {
        Call::new(HealthCheckRequest { service })
    }
}

/// The deadline and cancellation of one call.
struct Control {
    timeout: Option<Duration>,
    deadline: Option<Instant>,
    cancel: Option<CancellationToken>,
}

impl Control {
    /// The events of a server-streaming call, `method` of `client` with
    /// `body`, under this control: nothing is sent until the stream is first
    /// polled; a failure, the deadline or the token's cancellation ends it
    /// with one `Err`; dropping it cancels the call.
    fn stream<C, B, T, F, Fut>(
        self,
        client: C,
        body: B,
        method: F,
    ) -> impl Stream<Item = Result<T, Error>> + Send + Unpin + 'static
    where
        C: Clone + Send + 'static,
        B: Clone + Send + 'static,
        T: Send + 'static,
        F: Fn(C, tonic::Request<B>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<tonic::Response<tonic::Streaming<T>>, Status>> + Send + 'static,
    {
        let open = send(client, body, self.timeout, method);
        let events = stream::once(open)
            .map_ok(tonic::Response::into_inner)
            .try_flatten();
        Box::pin(stream::unfold(
            Some((Box::pin(events), self)),
            |state| async move {
                let (mut events, control) = state?;
                match control.guard(events.next()).await {
                    Ok(Some(Ok(event))) => Some((Ok(event), Some((events, control)))),
                    Ok(Some(Err(status))) => Some((Err(Error::from(status)), None)),
                    Ok(None) => None,
                    // Deadline or cancellation: dropping `events` resets the call.
                    Err(error) => Some((Err(error), None)),
                }
            },
        ))
    }

    /// A unary call, `method` of a clone of `client` with `body`, under this
    /// control.
    async fn unary<C, B, R, F, Fut>(&self, client: &C, body: B, method: F) -> Result<R, Error>
    where
        C: Clone,
        B: Clone,
        F: Fn(C, tonic::Request<B>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<R>, Status>>,
    {
        let call = send(client.clone(), body, self.timeout, method);
        Ok(self.guard(call).await??.into_inner())
    }

    /// Runs `future` until it completes, the deadline passes or the token is
    /// cancelled, whichever comes first (the last two drop `future`).
    async fn guard<F: Future>(&self, future: F) -> Result<F::Output, Error> {
        let deadline = async {
            match self.deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        let cancelled = async {
            match &self.cancel {
                Some(token) => token.cancelled().await,
                None => std::future::pending().await,
            }
        };
        // Biased, in this order: a call cancelled or past its deadline
        // reports that, even if tonic's own timer fired at the same time.
        tokio::select! {
            biased;
            _ = cancelled => Err(Error::cancelled()),
            _ = deadline => Err(Error::deadline_exceeded()),
            output = future => Ok(output),
        }
    }
}

/// Sends a call, and sends it once more if the first try never reached the
/// gateway's handlers. When a server closes a connection gracefully (HTTP/2
/// GOAWAY, as the gateway does at `max_connection_age_seconds`) while a
/// stream is still open on it, hyper drops the next call queued for that
/// connection unsent (CANCELLED "operation was canceled"), and a call that
/// races the final GOAWAY may be refused unprocessed; the channel reconnects on
/// the next call. gRPC's own clients retry such calls transparently; this
/// does the same, so a connection's rotation never costs a caller a call.
async fn send<C, B, R, F, Fut>(
    client: C,
    body: B,
    timeout: Option<Duration>,
    method: F,
) -> Result<R, Status>
where
    C: Clone,
    B: Clone,
    F: Fn(C, tonic::Request<B>) -> Fut,
    Fut: Future<Output = Result<R, Status>>,
{
    match method(client.clone(), request(timeout, body.clone())).await {
        Err(status) if never_sent(&status) => method(client, request(timeout, body)).await,
        result => result,
    }
}

/// The tonic request, with the deadline sent to the server (`grpc-timeout`)
/// so that it stops working when the deadline passes.
fn request<B>(timeout: Option<Duration>, body: B) -> tonic::Request<B> {
    let mut request = tonic::Request::new(body);
    if let Some(timeout) = timeout {
        request.set_timeout(timeout);
    }
    request
}

/// Whether the call provably never reached the gateway's handlers, from the
/// status's sources: hyper dropped it before writing it (`Canceled`; hyper's
/// own retrying client resends exactly these), or the server refused its
/// stream unprocessed (RST_STREAM REFUSED_STREAM; RFC 9113, 8.7). Not any
/// GOAWAY error: h2 also gives a remote GOAWAY's reason to streams the
/// server was already working on when the connection ends, and resending
/// one of those could run a paid call twice.
fn never_sent(status: &Status) -> bool {
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        if let Some(error) = error.downcast_ref::<hyper::Error>() {
            if error.is_canceled() {
                return true;
            }
        }
        if let Some(error) = error.downcast_ref::<h2::Error>() {
            return error.is_reset() && error.reason() == Some(h2::Reason::REFUSED_STREAM);
        }
        source = error.source();
    }
    false
}
