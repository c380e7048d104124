module github.com/clockwork-go/clockwork

go 1.26.8

require (
	github.com/pierrec/lz4/v4 v4.1.33
	gonum.org/v1/gonum v0.17.0
	google.golang.org/protobuf v1.36.12
)
