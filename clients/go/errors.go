package llmgateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	llmgatewayv1 "github.com/llm-gateway/llm-gateway/generated/go/llmgateway/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
)

// Error is a failed call: its gRPC code and message, with the rich details
// the gateway sends (google.rpc.ErrorInfo, RetryInfo, BadRequest and
// RequestInfo) decoded. Every method of Client returns its failures as
// *Error:
//
//	var gwErr *llmgateway.Error
//	if errors.As(err, &gwErr) && gwErr.Reason == "MODEL_NOT_FOUND" { ... }
//
// status.Code(err) and status.FromError(err) work on it too, and
// errors.Is(err, context.Canceled) / errors.Is(err, context.DeadlineExceeded)
// match the codes Canceled and DeadlineExceeded.
type Error struct {
	// Code is the gRPC status code.
	Code codes.Code
	// Message is the developer-facing message of the status.
	Message string
	// Reason is the stable reason of ErrorInfo ("MODEL_NOT_FOUND"; see
	// llmgatewayv1.ErrorReason), empty when the status carried none.
	Reason string
	// Domain is ErrorInfo's domain: "llmgateway" for the gateway's errors.
	Domain string
	// Metadata is ErrorInfo's context: "provider", "model", "feature",
	// "upstream_status", "upstream_request_id", ...
	Metadata map[string]string
	// RetryDelay is RetryInfo's delay: how long to wait before retrying.
	// Zero when the status carried no RetryInfo (retrying will not help).
	RetryDelay time.Duration
	// FieldViolations are BadRequest's violations, one per invalid field
	// ("input.messages"), for INVALID_ARGUMENT.
	FieldViolations []*errdetails.BadRequest_FieldViolation
	// RequestID is RequestInfo's request id: the gateway's id for the
	// failed call, for logs and support.
	RequestID string

	status *status.Status
}

// Error formats the error as "llmgateway: NotFound MODEL_NOT_FOUND: message (request id ...)".
func (e *Error) Error() string {
	s := "llmgateway: " + e.Code.String()
	if e.Reason != "" {
		s += " " + e.Reason
	}
	s += ": " + e.Message
	if e.RequestID != "" {
		s += fmt.Sprintf(" (request id %s)", e.RequestID)
	}
	return s
}

// GRPCStatus is the original status, details included (for status.FromError
// and status.Code).
func (e *Error) GRPCStatus() *status.Status { return e.status }

// Is makes errors.Is(err, context.Canceled) and
// errors.Is(err, context.DeadlineExceeded) true for the matching codes.
func (e *Error) Is(target error) bool {
	switch target {
	case context.Canceled:
		return e.Code == codes.Canceled
	case context.DeadlineExceeded:
		return e.Code == codes.DeadlineExceeded
	}
	return false
}

// AsError converts an error of a gRPC call into an *Error (nil stays nil;
// an *Error is returned as is). Client's methods already do this; use it for
// calls made with the generated stubs over Client.Conn.
func AsError(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	// A non-status error (none from grpc-go) becomes codes.Unknown.
	s, _ := status.FromError(err)
	return fromStatus(s)
}

func fromStatus(s *status.Status) *Error {
	e := &Error{Code: s.Code(), Message: s.Message(), status: s}
	for _, detail := range s.Details() {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			e.Reason, e.Domain, e.Metadata = d.GetReason(), d.GetDomain(), d.GetMetadata()
		case *errdetails.RetryInfo:
			e.RetryDelay = d.GetRetryDelay().AsDuration()
		case *errdetails.BadRequest:
			e.FieldViolations = append(e.FieldViolations, d.GetFieldViolations()...)
		case *errdetails.RequestInfo:
			e.RequestID = d.GetRequestId()
		}
	}
	return e
}

// itemError is the *Error of a failed batch item. Its status carries the
// item's ErrorInfo, RetryInfo, BadRequest and RequestInfo, so that
// GRPCStatus, status.Code and status.FromError work as for a failed call.
// An ItemError has no domain.
func itemError(item *llmgatewayv1.ItemError) *Error {
	code := codes.Code(item.GetCode())
	if code == codes.OK { // malformed: an item error is never OK
		code = codes.Unknown
	}
	s := status.New(code, item.GetMessage())
	var details []protoadapt.MessageV1
	if item.GetReason() != "" || len(item.GetMetadata()) > 0 {
		details = append(details, &errdetails.ErrorInfo{Reason: item.GetReason(), Metadata: item.GetMetadata()})
	}
	if item.GetRetryDelay() != nil {
		details = append(details, &errdetails.RetryInfo{RetryDelay: item.GetRetryDelay()})
	}
	if violations := item.GetFieldViolations(); len(violations) > 0 {
		bad := &errdetails.BadRequest{}
		for _, v := range violations {
			bad.FieldViolations = append(bad.FieldViolations, &errdetails.BadRequest_FieldViolation{
				Field: v.GetField(), Description: v.GetDescription()})
		}
		details = append(details, bad)
	}
	if item.GetRequestId() != "" {
		details = append(details, &errdetails.RequestInfo{RequestId: item.GetRequestId()})
	}
	if withDetails, err := s.WithDetails(details...); err == nil {
		s = withDetails
	}
	return fromStatus(s)
}
