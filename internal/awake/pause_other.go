//go:build !amd64

package awake

func pause() {}
