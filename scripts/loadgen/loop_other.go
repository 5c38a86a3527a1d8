//go:build !linux

package main

import "errors"

func run(cfg config) (*result, error) {
	return nil, errors.New("loadgen drives its connections with epoll: Linux only")
}
