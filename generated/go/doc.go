// Package generated holds the Go stubs of the llmgateway.v1 gRPC contract,
// produced by `make generate` from proto/ (do not edit the llmgateway
// directory by hand). Import github.com/llm-gateway/llm-gateway/generated/go/llmgateway/v1.
package generated
