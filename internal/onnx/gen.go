// Package onnx holds Go types for the subset of the ONNX protobuf schema
// that Clockwork reads and writes (onnx.proto, generated into onnx.pb.go).
// The types are generated rather than taken from a third-party module so
// that the project depends only on google.golang.org/protobuf, and the
// subset keeps the official field numbers, so files interoperate with
// onnxruntime and PyTorch.
package onnx

//go:generate sh -c "cd ../.. && protoc --go_out=. --go_opt=module=github.com/clockwork-go/clockwork internal/onnx/onnx.proto"
