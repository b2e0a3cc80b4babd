// Package llmgateway is a thin Go client for the LLM gateway's gRPC API
// (llmgateway.v1).
//
// The generated types in
// github.com/llm-gateway/llm-gateway/generated/go/llmgateway/v1 are the data
// model; this package adds the connection (plaintext or TLS, API key),
// a default per-call deadline, request ids, streaming as an iterator, stream
// reassembly (chat and text completion), batches, paging, health checks and
// typed errors (*Error).
//
//	c, err := llmgateway.New("127.0.0.1:50051")
//	if err != nil { ... }
//	defer c.Close()
//	reply, err := c.Chat(ctx, &llmgatewayv1.ChatInput{
//		Model:    "fast",
//		Messages: []*llmgatewayv1.Message{llmgateway.UserMessage("Hello")},
//	})
//
// Every method takes a context first: it carries cancellation and the
// deadline. When the context has no deadline the client's default timeout
// (WithTimeout, DefaultTimeout) applies.
package llmgateway

import (
	"context"
	"crypto/tls"
	"io"
	"iter"
	"time"

	llmgatewayv1 "github.com/llm-gateway/llm-gateway/generated/go/llmgateway/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// DefaultTimeout is the deadline of a call whose context has none, unless
// WithTimeout says otherwise.
const DefaultTimeout = 120 * time.Second

// Client calls the gateway over one gRPC connection. It is safe for
// concurrent use; create one per gateway and Close it when done.
type Client struct {
	conn        *grpc.ClientConn
	timeout     time.Duration
	chat        llmgatewayv1.ChatServiceClient
	completions llmgatewayv1.CompletionServiceClient
	embed       llmgatewayv1.EmbeddingServiceClient
	models      llmgatewayv1.ModelServiceClient
	health      healthpb.HealthClient
}

// Option configures New.
type Option func(*options)

type options struct {
	tls     *tls.Config // nil: plaintext
	apiKey  string
	timeout time.Duration
	dial    []grpc.DialOption
}

// WithTLS connects over TLS. A nil config uses the system's root
// certificates and the address's host name.
func WithTLS(config *tls.Config) Option {
	return func(o *options) {
		if config == nil {
			config = &tls.Config{}
		}
		o.tls = config
	}
}

// WithAPIKey sends `authorization: Bearer <key>` with every call, over TLS
// and plaintext alike (plaintext is for loopback or a trusted mesh).
func WithAPIKey(key string) Option {
	return func(o *options) { o.apiKey = key }
}

// WithTimeout sets the deadline of calls whose context has none; zero or
// less means no default deadline. The default is DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

// WithDialOptions adds gRPC dial options (interceptors, keepalive,
// message size limits, ...).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dial = append(o.dial, opts...) }
}

// New creates a client for the gateway at address ("host:port"), plaintext
// unless WithTLS is given. The connection is made lazily, on the first call.
func New(address string, opts ...Option) (*Client, error) {
	o := options{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	dial := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if o.tls != nil {
		dial[0] = grpc.WithTransportCredentials(credentials.NewTLS(o.tls))
	}
	if o.apiKey != "" {
		dial = append(dial, grpc.WithPerRPCCredentials(bearer{key: o.apiKey, secure: o.tls != nil}))
	}
	conn, err := grpc.NewClient(address, append(dial, o.dial...)...)
	if err != nil {
		return nil, err
	}
	return &Client{
		conn:        conn,
		timeout:     o.timeout,
		chat:        llmgatewayv1.NewChatServiceClient(conn),
		completions: llmgatewayv1.NewCompletionServiceClient(conn),
		embed:       llmgatewayv1.NewEmbeddingServiceClient(conn),
		models:      llmgatewayv1.NewModelServiceClient(conn),
		health:      healthpb.NewHealthClient(conn),
	}, nil
}

// Close closes the connection; calls in flight fail with codes.Canceled.
func (c *Client) Close() error { return c.conn.Close() }

// Conn is the underlying connection, for the generated stubs of services
// this client does not wrap (LocalModelService, ...). Calls made through it
// carry the API key; use AsError to decode their errors.
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// CallOption configures one call.
type CallOption func(*llmgatewayv1.RequestMetadata)

// WithRequestID sets the request id (RequestMetadata.request_id): the
// gateway echoes it in responses, logs and error details instead of
// generating one. At most 128 printable ASCII characters.
func WithRequestID(id string) CallOption {
	return func(m *llmgatewayv1.RequestMetadata) { m.RequestId = id }
}

// WithEndUser sets RequestMetadata.end_user_id, forwarded to providers
// that accept one.
func WithEndUser(id string) CallOption {
	return func(m *llmgatewayv1.RequestMetadata) { m.EndUserId = id }
}

// WithLabels adds observability labels (RequestMetadata.labels).
func WithLabels(labels map[string]string) CallOption {
	return func(m *llmgatewayv1.RequestMetadata) {
		if m.Labels == nil {
			m.Labels = map[string]string{}
		}
		for k, v := range labels {
			m.Labels[k] = v
		}
	}
}

// metadata applies opts on top of base (which it does not modify); nil when
// there is nothing to send.
func metadata(base *llmgatewayv1.RequestMetadata, opts []CallOption) *llmgatewayv1.RequestMetadata {
	if len(opts) == 0 {
		return base
	}
	m := &llmgatewayv1.RequestMetadata{}
	if base != nil {
		m = proto.CloneOf(base)
	}
	for _, opt := range opts {
		opt(m)
	}
	return m
}

// callContext applies the default deadline when ctx has none.
func (c *Client) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || c.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.timeout)
}

// Chat generates one assistant reply.
func (c *Client) Chat(ctx context.Context, in *llmgatewayv1.ChatInput, opts ...CallOption) (*llmgatewayv1.ChatResponse, error) {
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	reply, err := c.chat.Chat(ctx, &llmgatewayv1.ChatRequest{Input: in, Metadata: metadata(nil, opts)})
	return reply, AsError(err)
}

// Stream generates one assistant reply as a stream of events, yielded as
// they arrive. A failure ends the sequence with one (nil, *Error) pair; a
// successful stream ends after its `done` event. Leaving the loop early, or
// cancelling ctx, cancels the call (the error is then codes.Canceled, which
// also matches errors.Is(err, context.Canceled)).
//
//	for event, err := range c.Stream(ctx, in) {
//		if err != nil { return err }
//		...
//	}
//
// Each range over the sequence makes a new call. Reassemble (or an
// Accumulator) rebuilds the final ChatResponse.
func (c *Client) Stream(ctx context.Context, in *llmgatewayv1.ChatInput, opts ...CallOption) iter.Seq2[*llmgatewayv1.StreamChatResponse, error] {
	request := &llmgatewayv1.StreamChatRequest{Input: in, Metadata: metadata(nil, opts)}
	return serverStream(ctx, c, func(ctx context.Context) (grpc.ServerStreamingClient[llmgatewayv1.StreamChatResponse], error) {
		return c.chat.StreamChat(ctx, request)
	})
}

// serverStream yields the messages of the server stream that start opens,
// with the default deadline, typed errors, and cancellation when the loop
// stops early (see Stream).
func serverStream[T any](ctx context.Context, c *Client,
	start func(context.Context) (grpc.ServerStreamingClient[T], error)) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		ctx, cancel := c.callContext(ctx)
		defer cancel() // ends the call when the loop stops early
		stream, err := start(ctx)
		if err != nil {
			yield(nil, AsError(err))
			return
		}
		for {
			message, err := stream.Recv()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(nil, AsError(err))
				return
			}
			if !yield(message, nil) {
				return
			}
		}
	}
}

// BatchResult is the result of one BatchChat item: exactly one of Response
// and Err is set.
type BatchResult struct {
	// ID is the item's BatchChatItem.id.
	ID string
	// Response is the item's reply; nil when the item failed.
	Response *llmgatewayv1.ChatResponse
	// Err is the item's failure, an *Error with the code, message, reason,
	// metadata, retry delay, field violations and request id of its
	// ItemError (which carries no domain); nil when the item succeeded.
	Err error
}

// BatchChat runs many chat requests, at most maxConcurrency at a time (0:
// the gateway's default, 8; at most 64), and yields each item's result as it
// finishes, in completion order. A failing item is a result whose Err is
// set; the other items go on. A failure of the call itself (an invalid
// batch, the deadline, cancellation) ends the sequence with one
// (BatchResult{}, *Error) pair. ctx's deadline, or the default one, covers
// the whole batch; leaving the loop early cancels the items still running.
//
//	for result, err := range c.BatchChat(ctx, items, 4) {
//		if err != nil { return err }   // the batch failed
//		if result.Err != nil { ... }   // this item failed
//		...
//	}
func (c *Client) BatchChat(ctx context.Context, items []*llmgatewayv1.BatchChatItem, maxConcurrency int32, opts ...CallOption) iter.Seq2[BatchResult, error] {
	request := &llmgatewayv1.BatchChatRequest{Items: items, MaxConcurrency: maxConcurrency, Metadata: metadata(nil, opts)}
	responses := serverStream(ctx, c, func(ctx context.Context) (grpc.ServerStreamingClient[llmgatewayv1.BatchChatResponse], error) {
		return c.chat.BatchChat(ctx, request)
	})
	return func(yield func(BatchResult, error) bool) {
		for response, err := range responses {
			if err != nil {
				yield(BatchResult{}, err)
				return
			}
			if !yield(batchResult(response), nil) {
				return
			}
		}
	}
}

func batchResult(r *llmgatewayv1.BatchChatResponse) BatchResult {
	result := BatchResult{ID: r.GetId()}
	switch kind := r.GetResult().(type) {
	case *llmgatewayv1.BatchChatResponse_Response:
		result.Response = kind.Response
	case *llmgatewayv1.BatchChatResponse_Error:
		result.Err = itemError(kind.Error)
	default: // a result kind from a newer contract (or none)
		result.Err = fromStatus(status.New(codes.Unknown, "batch item result of a kind this client does not know"))
	}
	return result
}

// CountTokens counts the input tokens of a chat request with the
// provider's own method (codes.Unimplemented where it has none).
func (c *Client) CountTokens(ctx context.Context, in *llmgatewayv1.ChatInput, opts ...CallOption) (*llmgatewayv1.CountTokensResponse, error) {
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	reply, err := c.chat.CountTokens(ctx, &llmgatewayv1.CountTokensRequest{Input: in, Metadata: metadata(nil, opts)})
	return reply, AsError(err)
}

// Complete generates a text completion for each prompt (CompletionService;
// codes.Unimplemented for providers without it).
func (c *Client) Complete(ctx context.Context, in *llmgatewayv1.CompletionInput, opts ...CallOption) (*llmgatewayv1.CompleteResponse, error) {
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	reply, err := c.completions.Complete(ctx, &llmgatewayv1.CompleteRequest{Input: in, Metadata: metadata(nil, opts)})
	return reply, AsError(err)
}

// StreamComplete generates text completions as a stream of events, yielded
// as they arrive, like Stream: a failure ends the sequence with one
// (nil, *Error) pair, a successful stream ends after its `done` event, and
// leaving the loop early or cancelling ctx cancels the call. Each range
// makes a new call. ReassembleCompletion (or a CompletionAccumulator)
// rebuilds the CompleteResponse.
func (c *Client) StreamComplete(ctx context.Context, in *llmgatewayv1.CompletionInput, opts ...CallOption) iter.Seq2[*llmgatewayv1.StreamCompleteResponse, error] {
	request := &llmgatewayv1.StreamCompleteRequest{Input: in, Metadata: metadata(nil, opts)}
	return serverStream(ctx, c, func(ctx context.Context) (grpc.ServerStreamingClient[llmgatewayv1.StreamCompleteResponse], error) {
		return c.completions.StreamComplete(ctx, request)
	})
}

// Embed embeds a batch of inputs; EmbedTexts builds the common request.
// CallOptions override request.Metadata without modifying request.
func (c *Client) Embed(ctx context.Context, request *llmgatewayv1.EmbedRequest, opts ...CallOption) (*llmgatewayv1.EmbedResponse, error) {
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	if len(opts) > 0 {
		md := metadata(request.GetMetadata(), opts)
		request = proto.CloneOf(request)
		request.Metadata = md
	}
	reply, err := c.embed.Embed(ctx, request)
	return reply, AsError(err)
}

// ListModels yields every model, ordered by name, fetching the pages as the
// loop advances. request may be nil; its page_size sets the page length and
// its page_token where to start. A failure ends the sequence with one
// (nil, *Error) pair. Each page gets its own default deadline.
func (c *Client) ListModels(ctx context.Context, request *llmgatewayv1.ListModelsRequest) iter.Seq2[*llmgatewayv1.Model, error] {
	return func(yield func(*llmgatewayv1.Model, error) bool) {
		page := &llmgatewayv1.ListModelsRequest{}
		if request != nil {
			page = proto.CloneOf(request) // page tokens are set on the copy
		}
		for {
			reply, err := c.listPage(ctx, page)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, model := range reply.GetModels() {
				if !yield(model, nil) {
					return
				}
			}
			if reply.GetNextPageToken() == "" {
				return
			}
			page.PageToken = reply.GetNextPageToken()
		}
	}
}

func (c *Client) listPage(ctx context.Context, request *llmgatewayv1.ListModelsRequest) (*llmgatewayv1.ListModelsResponse, error) {
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	reply, err := c.models.ListModels(ctx, request)
	return reply, AsError(err)
}

// GetModel gets one model by name ("echo/echo") or alias ("fast").
func (c *Client) GetModel(ctx context.Context, name string) (*llmgatewayv1.Model, error) {
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	reply, err := c.models.GetModel(ctx, &llmgatewayv1.GetModelRequest{Name: name})
	if err != nil {
		return nil, AsError(err)
	}
	return reply.GetModel(), nil
}

// Health reports the serving status of a service of the gateway (grpc.health.v1):
// "" for the whole server, "readiness" for readiness to take traffic.
func (c *Client) Health(ctx context.Context, service string) (healthpb.HealthCheckResponse_ServingStatus, error) {
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	reply, err := c.health.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return healthpb.HealthCheckResponse_UNKNOWN, AsError(err)
	}
	return reply.GetStatus(), nil
}

// bearer sends the API key as `authorization: Bearer <key>` metadata.
type bearer struct {
	key    string
	secure bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.key}, nil
}

func (b bearer) RequireTransportSecurity() bool { return b.secure }
